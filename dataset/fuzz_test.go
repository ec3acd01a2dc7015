package dataset

import (
	"bytes"
	"math"
	"sort"
	"strings"
	"testing"
)

// Seed corpora live in testdata/fuzz/<FuzzName>/.

// FuzzParseCSV checks that ParseCSVWith never panics and that whatever it
// accepts is a consistent dataset. ignore and classes are lists separated
// by '|'.
func FuzzParseCSV(f *testing.F) {
	f.Fuzz(func(t *testing.T, in, label, ignore, classes string) {
		o := CSVOptions{Label: label, Ignore: split(ignore), Classes: split(classes)}
		d, err := ParseCSVWith(strings.NewReader(in), "fuzz", o)
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

func split(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, "|")
}

// FuzzReadIDX checks that the idx readers never panic, honour their limits,
// and read exactly the header and payload of what they accept.
func FuzzReadIDX(f *testing.F) {
	const maxItems = 1000
	f.Fuzz(func(t *testing.T, in []byte) {
		r := bytes.NewReader(in)
		n, rows, cols, pix, err := ReadIDXImages(r, maxItems)
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
// accepts exactly whole records with labels below classes, and scales
// every pixel byte to byte/255.
func FuzzDecodeCIFAR(f *testing.F) {
	f.Fuzz(func(t *testing.T, in []byte, classes uint8) {
		n := len(in) / CIFAR10RecordSize
		x := make([]float32, n*CIFAR10ImageSize)
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
				if x[i*CIFAR10ImageSize+p] != float32(r[1+p])/255 {
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
