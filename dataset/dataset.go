package dataset

import (
	"fmt"

	"github.com/pkg/errors"
)

// Dataset is a set of labelled samples held in memory, row-major.
//
// Sample i occupies X[i*Size():(i+1)*Size()] and has label Y[i]. Loaders in
// this package always return datasets where len(X) == N()*Size() and every
// label lies in [0, Classes).
type Dataset struct {
	// Name identifies the data, e.g. "mnist-train", or the CSV file's base
	// name without its extensions.
	Name string
	// X holds N()*Size() values; sample i is X[i*Size():(i+1)*Size()].
	X []float32
	// Y holds the N() class labels, each in [0, Classes).
	Y []int
	// Shape is the per-sample shape: [features] for tabular data,
	// [1,28,28] (channels, rows, columns) for MNIST images.
	Shape []int
	// Classes is the number of classes.
	Classes int
	// ClassNames holds the label strings in class-index order: for CSV the
	// sorted distinct label values (or CSVOptions.Classes), for MNIST
	// "0".."9".
	ClassNames []string
	// Features holds the feature (column) names for CSV data; nil for MNIST.
	Features []string
}

// N returns the number of samples.
func (d *Dataset) N() int { return len(d.Y) }

// Size returns the number of values per sample, the product of Shape. It is
// 0 when Shape is empty.
func (d *Dataset) Size() int {
	if len(d.Shape) == 0 {
		return 0
	}
	s := 1
	for _, v := range d.Shape {
		s *= v
	}
	return s
}

// Sample returns the values of sample i as a sub-slice of X, not a copy:
// writes through it change the dataset. Its capacity ends at the sample, so
// appending to it never overwrites the next sample. Like slice indexing, it
// panics if i is not in [0, N()).
func (d *Dataset) Sample(i int) []float32 {
	s := d.Size()
	return d.X[i*s : (i+1)*s : (i+1)*s]
}

// Subset returns a new dataset holding copies of the samples idx[0],
// idx[1], ... in that order (an index may repeat). Shape, ClassNames and
// Features are copied too, so the result shares no memory with d. Like slice
// indexing, it panics if an index is not in [0, N()).
func (d *Dataset) Subset(idx []int) *Dataset {
	s := d.Size()
	out := &Dataset{
		Name:       d.Name,
		X:          make([]float32, len(idx)*s),
		Y:          make([]int, len(idx)),
		Shape:      cloneInts(d.Shape),
		Classes:    d.Classes,
		ClassNames: cloneStrings(d.ClassNames),
		Features:   cloneStrings(d.Features),
	}
	for j, i := range idx {
		copy(out.X[j*s:(j+1)*s], d.X[i*s:(i+1)*s])
		out.Y[j] = d.Y[i]
	}
	return out
}

// Reshape returns a dataset with the same samples viewed with another
// per-sample shape of the same size, e.g. MNIST's [1,28,28] as [784] to feed
// a multilayer perceptron. The result shares X and Y with d (they are not
// copied); Shape is the given one, copied. Every dimension must be positive.
func (d *Dataset) Reshape(shape []int) (*Dataset, error) {
	if len(shape) == 0 {
		return nil, errors.New("reshape: empty shape")
	}
	size := 1
	for _, v := range shape {
		if v <= 0 {
			return nil, errors.Errorf("reshape %s: dimension %d in %v is not positive", d.Name, v, shape)
		}
		if size > maxInt/v {
			return nil, errors.Errorf("reshape %s: shape %v is too large", d.Name, shape)
		}
		size *= v
	}
	if size != d.Size() {
		return nil, errors.Errorf("reshape %s: shape %v has size %d, samples have shape %v (size %d)",
			d.Name, shape, size, d.Shape, d.Size())
	}
	out := *d
	out.Shape = cloneInts(shape)
	return &out, nil
}

// String describes the dataset in one line, e.g.
// "mnist-train: 60000 samples of shape [1 28 28], 10 classes".
func (d *Dataset) String() string {
	return fmt.Sprintf("%s: %d samples of shape %v, %d classes", d.Name, d.N(), d.Shape, d.Classes)
}

const maxInt = int(^uint(0) >> 1)

func cloneInts(s []int) []int {
	if s == nil {
		return nil
	}
	return append([]int(nil), s...)
}

func cloneStrings(s []string) []string {
	if s == nil {
		return nil
	}
	return append([]string(nil), s...)
}
