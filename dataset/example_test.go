package dataset_test

import (
	"fmt"
	"strings"

	"github.com/spred-go/spred/dataset"
)

func ExampleParseCSV() {
	const table = `height,weight,species
5.1,3.5,setosa
7.0,3.2,versicolor
4.9,3.0,setosa
`
	d, err := dataset.ParseCSV(strings.NewReader(table), "iris", "species")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(d)
	fmt.Println("features:", d.Features)
	fmt.Println("classes:", d.ClassNames)
	for i := 0; i < d.N(); i++ {
		fmt.Println(d.Sample(i), d.ClassNames[d.Y[i]])
	}

	_, err = dataset.ParseCSV(strings.NewReader("x,y\n1,a\nfoo,b\n"), "bad", "y")
	fmt.Println(err)
	// Output:
	// iris: 3 samples of shape [2], 2 classes
	// features: [height weight]
	// classes: [setosa versicolor]
	// [5.1 3.5] setosa
	// [7 3.2] versicolor
	// [4.9 3] setosa
	// bad: row 2 (line 3), column "x": cannot parse "foo" as a number
}
