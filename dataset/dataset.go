package dataset

import (
	"fmt"

	"github.com/pkg/errors"
)

// Dataset is a set of labelled samples held in memory, row-major.
//
// The values are held in one of two forms: as float32 in X, or, when X is
// nil, as bytes in Pixels, byte p standing for the value PixelValue(p) =
// float32(p)/255 (a quarter of the memory). Sample i is the Size() values
// from i*Size() on, label Y[i]. The idx and CIFAR-10 loaders return byte data
// sets, the CSV loaders float ones. Read, ReadRange and ReadBatch give the
// float32 values of either form. Loaders in this package always return
// datasets that hold N()*Size() values and where every label lies in
// [0, Classes).
type Dataset struct {
	// Name identifies the data, e.g. "mnist-train", or the CSV file's base
	// name without its extensions.
	Name string
	// X holds N()*Size() values; sample i is X[i*Size():(i+1)*Size()]. It
	// is nil for a data set held in Pixels.
	X []float32
	// Pixels holds the N()*Size() values as bytes when X is nil: byte p
	// stands for PixelValue(p). It is not read when X is not nil.
	Pixels []uint8
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

// pixelScale maps a byte to its float32 value in [0,1].
var pixelScale = func() (t [256]float32) {
	for i := range t {
		t[i] = float32(i) / 255
	}
	return t
}()

// PixelValue returns the value a byte of Pixels stands for, float32(p)/255.
func PixelValue(p uint8) float32 { return pixelScale[p] }

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

// IsBytes reports whether d holds its values in Pixels (X is nil and
// Pixels is not).
func (d *Dataset) IsBytes() bool { return d.X == nil && d.Pixels != nil }

// Values returns the number of values d holds, len(X), or len(Pixels) for
// a data set held in Pixels.
func (d *Dataset) Values() int {
	if d.IsBytes() {
		return len(d.Pixels)
	}
	return len(d.X)
}

// Read writes the Size() values of sample i to dst[:Size()]. Like slice
// indexing, it panics if i is not in [0, N()) or dst is shorter.
func (d *Dataset) Read(i int, dst []float32) { d.ReadRange(i, 1, dst) }

// ReadRange writes the values of the n samples start, start+1, ...,
// start+n-1, one after the other, to dst[:n*Size()]. Like slice indexing,
// it panics if the samples are not all in [0, N()) or dst is shorter.
func (d *Dataset) ReadRange(start, n int, dst []float32) {
	s := d.Size()
	lo, hi := start*s, (start+n)*s
	if start < 0 || n < 0 || start+n > d.N() {
		panic(fmt.Sprintf("dataset %s: samples %d to %d of %d", d.Name, start, start+n-1, d.N()))
	}
	dst = dst[:hi-lo]
	if !d.IsBytes() {
		copy(dst, d.X[lo:hi])
		return
	}
	for j, p := range d.Pixels[lo:hi] {
		dst[j] = pixelScale[p]
	}
}

// ReadBatch writes the values of the samples idx[0], idx[1], ... (an index
// may repeat), one after the other, to dst[:len(idx)*Size()]. Like slice
// indexing, it panics if an index is not in [0, N()) or dst is shorter.
func (d *Dataset) ReadBatch(idx []int, dst []float32) {
	s := d.Size()
	dst = dst[:len(idx)*s]
	for j, i := range idx {
		d.ReadRange(i, 1, dst[j*s:(j+1)*s])
	}
}

// Subset returns a new dataset holding copies of the samples idx[0],
// idx[1], ... in that order (an index may repeat), in d's form (X or
// Pixels). Shape, ClassNames and Features are copied too, so the result
// shares no memory with d. Like slice indexing, it panics if an index is
// not in [0, N()).
func (d *Dataset) Subset(idx []int) *Dataset {
	s := d.Size()
	out := &Dataset{
		Name:       d.Name,
		Y:          make([]int, len(idx)),
		Shape:      cloneInts(d.Shape),
		Classes:    d.Classes,
		ClassNames: cloneStrings(d.ClassNames),
		Features:   cloneStrings(d.Features),
	}
	if d.IsBytes() {
		out.Pixels = make([]uint8, len(idx)*s)
		for j, i := range idx {
			copy(out.Pixels[j*s:(j+1)*s], d.Pixels[i*s:(i+1)*s])
		}
	} else {
		out.X = make([]float32, len(idx)*s)
		for j, i := range idx {
			copy(out.X[j*s:(j+1)*s], d.X[i*s:(i+1)*s])
		}
	}
	for j, i := range idx {
		out.Y[j] = d.Y[i]
	}
	return out
}

// Floats returns d held in X: d itself when it is, else a copy of d
// whose X holds the values of Pixels (and Pixels nil). Y, Shape,
// ClassNames and Features are shared with d.
func (d *Dataset) Floats() *Dataset {
	if !d.IsBytes() {
		return d
	}
	out := *d
	out.X = make([]float32, len(d.Pixels))
	for j, p := range d.Pixels {
		out.X[j] = pixelScale[p]
	}
	out.Pixels = nil
	return &out
}

// Reshape returns a dataset with the same samples viewed with another
// per-sample shape of the same size, e.g. MNIST's [1,28,28] as [784] to feed
// a multilayer perceptron. The result shares X (or Pixels) and Y with d
// (they are not copied); Shape is the given one, copied. Every dimension must be positive.
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
