package dataset_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
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
	x := make([]float32, d.Size())
	for i := 0; i < d.N(); i++ {
		d.Read(i, x)
		fmt.Println(x, d.ClassNames[d.Y[i]])
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

func ExampleLoad() {
	// A tiny folder in CIFAR-10's binary format: six batches of one
	// record each (a label byte, then 3072 pixel bytes).
	dir, err := os.MkdirTemp("", "cifar-example-")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	for i, name := range dataset.CIFAR10Files {
		rec := make([]byte, dataset.CIFAR10RecordSize)
		rec[0] = byte(i)                                    // the label
		copy(rec[1+1024:], bytes.Repeat([]byte{255}, 1024)) // a green image
		if err := os.WriteFile(filepath.Join(dir, name), rec, 0o644); err != nil {
			fmt.Println(err)
			return
		}
	}

	train, test, info, err := dataset.Load(dir)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(train)
	fmt.Println(test, test.ClassNames[test.Y[0]])
	fmt.Println(info.Name, info.Format, info.Mean, info.Std, info.Augment)

	// Standardise both sets with the training set's statistics (the std
	// of a constant channel is 0, so use 1 there).
	std := []float32{1, 1, 1}
	if err := test.Normalize(info.Mean, std); err != nil {
		fmt.Println(err)
	}
	x := make([]float32, test.Size())
	test.Read(0, x)
	fmt.Println(x[0], x[1024])
	// Output:
	// cifar-10-train: 5 samples of shape [3 32 32], 10 classes
	// cifar-10-test: 1 samples of shape [3 32 32], 10 classes dog
	// cifar-10 cifar-10-bin [0 1 0] [0 0 0] {4 true}
	// 0 0
}
