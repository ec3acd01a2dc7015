package npy_test

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/spred-go/spred/internal/npy"
)

// A [2, 3] array written and read back: what np.save(f, a) and np.load(f)
// do with a float32 array.
func Example() {
	var buf bytes.Buffer
	a := &npy.Array{Shape: []int{2, 3}, Data: []float32{1, 2, 3, 4, 5, 6}}
	if err := npy.Write(&buf, a); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(strings.TrimRight(string(buf.Bytes()[10:128]), " \n"))
	b, err := npy.Read(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(b.Shape, b.Data, buf.Len())
	// Output:
	// {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
	// [2 3] [1 2 3 4 5 6] 152
}
