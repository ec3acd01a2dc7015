package dataset

import (
	"bytes"
	"compress/gzip"
	"math"
	"reflect"
	"runtime"
	"sort"
	"strings"
	"testing"
)

// Seed corpora live in testdata/fuzz/<FuzzName>/.

// FuzzParseCSV checks that ParseCSVWith never panics and that whatever it
// accepts is a consistent dataset. ignore and classes are lists separated
// by '|'.
//
// The same text gzipped gives the same result, and under small limits (as
// MaxCSVRowBytes, MaxCSVColumns and MaxCSVCells are to real files) what is
// accepted keeps within them and what is refused for them names them.
func FuzzParseCSV(f *testing.F) {
	f.Fuzz(func(t *testing.T, in, label, ignore, classes string) {
		o := CSVOptions{Label: label, Ignore: split(ignore), Classes: split(classes)}
		var d *Dataset
		var err error
		if alloc := allocated(func() { d, err = ParseCSVWith(strings.NewReader(in), "fuzz", o) }); alloc > 64*uint64(len(in))+8<<20 {
			t.Fatalf("%d bytes of CSV allocated %d bytes", len(in), alloc)
		}
		checkGzipCSV(t, in, o, d, err)
		checkCSVLimits(t, in, o)
		if err != nil {
			if d != nil {
				t.Fatalf("dataset %v returned with error %v", d, err)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("multi-line error %q", err)
			}
			return
		}
		if d.N() == 0 || d.Classes < 2 || len(d.ClassNames) != d.Classes {
			t.Fatalf("N %d, classes %d, names %q", d.N(), d.Classes, d.ClassNames)
		}
		if len(d.Shape) != 1 || d.Size() != len(d.Features) || d.Size() == 0 || len(d.X) != d.N()*d.Size() {
			t.Fatalf("shape %v, %d features, len(X) %d, N %d", d.Shape, len(d.Features), len(d.X), d.N())
		}
		seen := make([]bool, d.Classes)
		for _, y := range d.Y {
			if y < 0 || y >= d.Classes {
				t.Fatalf("label %d out of [0,%d)", y, d.Classes)
			}
			seen[y] = true
		}
		for c, s := range seen {
			if !s {
				t.Fatalf("class %d (%q) has no samples", c, d.ClassNames[c])
			}
		}
		for _, v := range d.X {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				t.Fatalf("non-finite value %v", v)
			}
		}
		if len(o.Classes) == 0 && !sort.StringsAreSorted(d.ClassNames) {
			t.Fatalf("class names not sorted: %q", d.ClassNames)
		}
		for i := 1; i < len(d.ClassNames); i++ {
			for j := 0; j < i; j++ {
				if d.ClassNames[i] == d.ClassNames[j] || d.ClassNames[i] == "" {
					t.Fatalf("class names not distinct and non-empty: %q", d.ClassNames)
				}
			}
		}
	})
}

// checkGzipCSV checks that the gzipped text in parses as the plain text
// did (to d or err).
func checkGzipCSV(t *testing.T, in string, o CSVOptions, d *Dataset, err error) {
	r, closeFn, zerr := maybeGunzip(bytes.NewReader(gzipBytes(t, []byte(in))))
	if zerr != nil {
		t.Fatalf("gzip: %v", zerr)
	}
	defer closeFn()
	dz, errz := parseCSV(r, o, defaultCSVLimits)
	if (err == nil) != (errz == nil) || (err != nil && !strings.HasSuffix(err.Error(), errz.Error())) {
		t.Fatalf("plain: %v; gzipped: %v", err, errz)
	}
	if err == nil && (!reflect.DeepEqual(d.X, dz.X) || !reflect.DeepEqual(d.Y, dz.Y) || !reflect.DeepEqual(d.ClassNames, dz.ClassNames)) {
		t.Fatalf("gzipped text gives another dataset")
	}
}

// checkCSVLimits parses in under small limits.
func checkCSVLimits(t *testing.T, in string, o CSVOptions) {
	lim := csvLimits{rowBytes: 40, columns: 6, cells: 30}
	d, err := parseCSV(strings.NewReader(in), o, lim)
	if err != nil {
		if strings.Contains(err.Error(), "\n") {
			t.Fatalf("multi-line error %q", err)
		}
		return
	}
	if d.Size()+1 > lim.columns || len(d.X)+d.N() > lim.cells {
		t.Fatalf("%d features and %d rows accepted under limits %+v", d.Size(), d.N(), lim)
	}
	for _, line := range strings.Split(in, "\n") {
		if len(line) > lim.rowBytes {
			t.Fatalf("a line of %d bytes accepted under limits %+v", len(line), lim)
		}
	}
	X, n, _, y, _, err := parseTable(strings.NewReader(in), o.Label, lim)
	if err == nil && (len(X)+len(y) > lim.cells || n != len(y)) {
		t.Fatalf("table of %d cells and %d rows accepted under limits %+v", len(X)+len(y), n, lim)
	}
}

// allocated returns the bytes f allocates on the heap.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

func gzipBytes(t *testing.T, b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func split(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, "|")
}

// FuzzReadIDX checks that the idx readers never panic, honour their limits,
// and read exactly the header and payload of what they accept; that a
// gzipped stream reads the same; and that a header claiming more than the
// stream holds costs little memory (the pixels are allocated as they
// arrive, and at most MaxIDXValues of them).
func FuzzReadIDX(f *testing.F) {
	const maxItems = 1000
	f.Fuzz(func(t *testing.T, in []byte) {
		zr, closeFn, err := maybeGunzip(bytes.NewReader(gzipBytes(t, in)))
		if err != nil {
			t.Fatal(err)
		}
		var zn, zrows, zcols int
		var zpix []byte
		var zerr error
		if alloc := allocated(func() { zn, zrows, zcols, zpix, zerr = ReadIDXImages(zr, 0) }); alloc > 4*uint64(len(in))+4<<20 {
			t.Fatalf("%d bytes of idx allocated %d bytes", len(in), alloc)
		}
		closeFn()
		if zerr == nil && (zn*zrows*zcols > MaxIDXValues || !bytes.Equal(zpix, in[16:16+len(zpix)])) {
			t.Fatalf("gzipped: accepted %dx%dx%d, or not the input's pixels", zn, zrows, zcols)
		}
		r := bytes.NewReader(in)
		n, rows, cols, pix, err := ReadIDXImages(r, maxItems)
		if err == nil && zerr != nil {
			t.Fatalf("plain accepted, gzipped refused: %v", zerr)
		}
		if err == nil {
			if n < 0 || n > maxItems || rows < 1 || rows > MaxIDXDim || cols < 1 || cols > MaxIDXDim {
				t.Fatalf("accepted n=%d rows=%d cols=%d", n, rows, cols)
			}
			if len(pix) != n*rows*cols || !bytes.Equal(pix, in[16:16+len(pix)]) {
				t.Fatalf("got %d pixel bytes for %dx%dx%d, or not the input's", len(pix), n, rows, cols)
			}
			if r.Len() != len(in)-16-len(pix) {
				t.Fatalf("read %d bytes, want %d", len(in)-r.Len(), 16+len(pix))
			}
		} else if pix != nil || n != 0 {
			t.Fatalf("error %v with n=%d and %d pixel bytes", err, n, len(pix))
		}

		r = bytes.NewReader(in)
		labels, err := ReadIDXLabels(r, maxItems)
		if err == nil {
			if len(labels) > maxItems || !bytes.Equal(labels, in[8:8+len(labels)]) {
				t.Fatalf("got %d labels, or not the input's", len(labels))
			}
			if r.Len() != len(in)-8-len(labels) {
				t.Fatalf("read %d bytes, want %d", len(in)-r.Len(), 8+len(labels))
			}
		} else if labels != nil {
			t.Fatalf("error %v with %d labels", err, len(labels))
		}
	})
}

// FuzzDecodeCIFAR checks that the CIFAR-10 record decoder never panics,
// accepts exactly whole records with labels below classes, and keeps
// every pixel byte.
func FuzzDecodeCIFAR(f *testing.F) {
	f.Fuzz(func(t *testing.T, in []byte, classes uint8) {
		n := len(in) / CIFAR10RecordSize
		x := make([]uint8, n*CIFAR10ImageSize)
		y := make([]int, n)
		err := decodeCIFAR(in, x, y, int(classes))
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("multi-line error %q", err)
			}
			return
		}
		if len(in) == 0 || len(in)%CIFAR10RecordSize != 0 {
			t.Fatalf("accepted %d bytes", len(in))
		}
		for i := range n {
			r := in[i*CIFAR10RecordSize:]
			if y[i] != int(r[0]) || y[i] >= int(classes) {
				t.Fatalf("record %d: label %d from byte %d, %d classes", i, y[i], r[0], classes)
			}
			for p := range CIFAR10ImageSize {
				if x[i*CIFAR10ImageSize+p] != r[1+p] {
					t.Fatalf("record %d, pixel %d: %v from byte %d", i, p, x[i*CIFAR10ImageSize+p], r[1+p])
				}
			}
		}
	})
}

// FuzzParseCIFARMeta checks that the class-name parser never panics and
// returns 2 to 256 distinct, trimmed, non-empty names.
func FuzzParseCIFARMeta(f *testing.F) {
	f.Fuzz(func(t *testing.T, in []byte) {
		names, err := parseCIFARMeta(in)
		if err != nil {
			if names != nil || strings.Contains(err.Error(), "\n") {
				t.Fatalf("names %q with error %q", names, err)
			}
			return
		}
		if len(names) < 2 || len(names) > 256 {
			t.Fatalf("%d names", len(names))
		}
		seen := map[string]bool{}
		for _, s := range names {
			if s == "" || s != strings.TrimSpace(s) || seen[s] || strings.Contains(s, "\n") {
				t.Fatalf("bad or repeated name %q in %q", s, names)
			}
			seen[s] = true
		}
	})
}
