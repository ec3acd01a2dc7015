package dataset

import (
	"os"
	"path/filepath"
	"strings"

	"github.com/pkg/errors"
)

// The CIFAR-10 binary record: one label byte, then a 32×32 image as three
// row-major planes, red, green and blue.
const (
	CIFAR10ImageSize  = 3 * 32 * 32
	CIFAR10RecordSize = 1 + CIFAR10ImageSize
)

// CIFAR10Meta is the optional file of the CIFAR-10 folder that names the
// classes, one per line, in label order.
const CIFAR10Meta = "batches.meta.txt"

// CIFAR10ClassNames are the class names of CIFAR-10 in label order, used
// when the folder has no CIFAR10Meta.
var CIFAR10ClassNames = []string{
	"airplane", "automobile", "bird", "cat", "deer",
	"dog", "frog", "horse", "ship", "truck",
}

// maxCIFARMetaBytes bounds the size of CIFAR10Meta.
const maxCIFARMetaBytes = 1 << 16

// loadCIFAR10 reads a CIFAR-10 folder whose six batch files are files
// (CIFAR10Files order).
func loadCIFAR10(dir string, files []string) (train, test *Dataset, info Info, err error) {
	classes, err := readCIFARMeta(filepath.Join(dir, CIFAR10Meta))
	if err != nil {
		return nil, nil, Info{}, err
	}
	train, test, err = loadBoth(
		func() (*Dataset, error) { return loadCIFARSet(NameCIFAR10+"-train", files[:5], classes) },
		func() (*Dataset, error) { return loadCIFARSet(NameCIFAR10+"-test", files[5:], classes) })
	if err != nil {
		return nil, nil, Info{}, err
	}
	info = Info{Name: NameCIFAR10, Format: FormatCIFAR10, Dir: dir, Augment: Augment{Pad: 4, Flip: true}}
	info.Mean, info.Std = train.ChannelStats()
	return train, test, info, nil
}

// readCIFARMeta reads the class names from path, or returns
// CIFAR10ClassNames if there is no such file.
func readCIFARMeta(path string) ([]string, error) {
	st, err := os.Stat(path)
	if os.IsNotExist(err) {
		return cloneStrings(CIFAR10ClassNames), nil
	}
	if err != nil {
		return nil, errors.WithStack(err)
	}
	if st.Size() > maxCIFARMetaBytes {
		return nil, errors.Errorf("%s: %d bytes, more than the %d expected of a list of class names", path, st.Size(), maxCIFARMetaBytes)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, errors.WithStack(err)
	}
	names, err := parseCIFARMeta(b)
	return names, errors.Wrap(err, path)
}

// parseCIFARMeta returns the non-empty lines of b, trimmed: at least 2 and
// at most 256 distinct class names.
func parseCIFARMeta(b []byte) ([]string, error) {
	var names []string
	seen := map[string]bool{}
	for i, line := range strings.Split(string(b), "\n") {
		name := strings.TrimSpace(line)
		if name == "" {
			continue
		}
		if seen[name] {
			return nil, errors.Errorf("line %d: class name %q repeats", i+1, name)
		}
		seen[name] = true
		names = append(names, name)
	}
	if len(names) < 2 || len(names) > 256 {
		return nil, errors.Errorf("%d class names, want 2 to 256, one per line", len(names))
	}
	return names, nil
}

// loadCIFARSet reads the CIFAR-10 batch files paths into one dataset.
func loadCIFARSet(name string, paths []string, classes []string) (*Dataset, error) {
	n := 0
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, errors.WithStack(err)
		}
		if err := checkCIFARSize(st.Size()); err != nil {
			return nil, errors.Wrap(err, p)
		}
		n += int(st.Size() / CIFAR10RecordSize)
	}
	d := &Dataset{
		Name:       name,
		Pixels:     make([]uint8, n*CIFAR10ImageSize),
		Y:          make([]int, n),
		Shape:      []int{3, 32, 32},
		Classes:    len(classes),
		ClassNames: cloneStrings(classes),
	}
	off := 0
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, errors.WithStack(err)
		}
		m := len(b) / CIFAR10RecordSize
		if off+m > n {
			return nil, errors.Errorf("%s: the file grew while being read", p)
		}
		if err := decodeCIFAR(b, d.Pixels[off*CIFAR10ImageSize:(off+m)*CIFAR10ImageSize], d.Y[off:off+m], d.Classes); err != nil {
			return nil, errors.Wrap(err, p)
		}
		off += m
	}
	if off != n {
		return nil, errors.Errorf("%s: the files shrank while being read", strings.Join(paths, ", "))
	}
	return d, nil
}

// checkCIFARSize checks that a file of size bytes holds whole records.
func checkCIFARSize(size int64) error {
	if size == 0 {
		return errors.New("empty, want CIFAR-10 records")
	}
	if size%CIFAR10RecordSize != 0 {
		return errors.Errorf("%d bytes is not a multiple of the %d-byte CIFAR-10 record (1 label byte, %d pixel bytes)",
			size, CIFAR10RecordSize, CIFAR10ImageSize)
	}
	return nil
}

// decodeCIFAR decodes the CIFAR-10 records in b into x (the pixel bytes,
// see Dataset.Pixels) and y (labels, each below classes). x must hold
// CIFAR10ImageSize values per record and y one label per record.
func decodeCIFAR(b []byte, x []uint8, y []int, classes int) error {
	if err := checkCIFARSize(int64(len(b))); err != nil {
		return err
	}
	n := len(b) / CIFAR10RecordSize
	if len(x) != n*CIFAR10ImageSize || len(y) != n {
		return errors.Errorf("%d records, room for %d images and %d labels", n, len(x)/CIFAR10ImageSize, len(y))
	}
	for i := range n {
		r := b[i*CIFAR10RecordSize : (i+1)*CIFAR10RecordSize]
		if int(r[0]) >= classes {
			return errors.Errorf("label %d of record %d is not a class 0-%d", r[0], i, classes-1)
		}
		y[i] = int(r[0])
		copy(x[i*CIFAR10ImageSize:(i+1)*CIFAR10ImageSize], r[1:])
	}
	return nil
}
