package npy

import (
	"fmt"
	"strings"

	"github.com/pkg/errors"
)

// Array is an n-dimensional float32 array in C order: the last index varies
// fastest, so element (i, j) of a [rows, cols] array is Data[i*cols+j].
type Array struct {
	Shape []int     // dimensions; empty for a scalar
	Data  []float32 // the prod(Shape) values
}

// Limits on what Read accepts.
const (
	// MaxValues is the largest number of values an array may hold
	// (8 GiB of float32).
	MaxValues = 1 << 31
	// MaxHeaderLen is the longest header Read accepts, in bytes: the
	// limit numpy.load applies by default (max_header_size).
	MaxHeaderLen = 10000
)

// Errors returned (wrapped) by Read, ReadFile, Write and WriteFile.
var (
	// ErrFormat: the bytes are not a well-formed .npy file, or a claim of
	// its header disagrees with its size.
	ErrFormat = errors.New("malformed .npy file")
	// ErrUnsupported: a well-formed file holds an array Read does not
	// read (a dtype other than float32 and float64, big-endian or Fortran
	// order, a version other than 1.0, 2.0 and 3.0).
	ErrUnsupported = errors.New("unsupported .npy array")
)

// magic starts every .npy file.
const magic = "\x93NUMPY"

// The dtypes Read accepts, as 'descr' spells them, with their sizes.
var dtypes = map[string]int{"<f4": 4, "<f8": 8}

const accepted = "'<f4' (float32) or '<f8' (float64)"

// Len is the number of values Shape describes.
func (a *Array) Len() int {
	n := 1
	for _, d := range a.Shape {
		n *= d
	}
	return n
}

// Validate checks that Shape has no negative dimension, describes at most
// MaxValues values, and as many as Data holds.
func (a *Array) Validate() error {
	n, err := count(a.Shape)
	if err != nil {
		return err
	}
	if n != len(a.Data) {
		return errors.Errorf("shape %v holds %d values, the data %d", a.Shape, n, len(a.Data))
	}
	return nil
}

// count multiplies the dimensions of shape, refusing negative ones and a
// product over MaxValues (checked at every step, so it cannot overflow).
func count(shape []int) (int, error) {
	n := 1
	for _, d := range shape {
		if d < 0 {
			return 0, errors.Errorf("shape %v has a negative dimension", shape)
		}
		if d != 0 && n > MaxValues/d {
			// n > 0 here: a zero dimension makes every later product 0.
			return 0, errors.Wrapf(ErrFormat, "shape %v holds more than the limit of %d values", shape, MaxValues)
		}
		n *= d
	}
	return n, nil
}

// tupleString writes shape as Python writes a tuple: (), (3,), (2, 3).
func tupleString(shape []int) string {
	parts := make([]string, len(shape))
	for i, d := range shape {
		parts[i] = fmt.Sprint(d)
	}
	if len(shape) == 1 {
		return "(" + parts[0] + ",)"
	}
	return "(" + strings.Join(parts, ", ") + ")"
}
