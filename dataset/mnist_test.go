package dataset

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// idxImages encodes an idx3-ubyte image file.
func idxImages(n, rows, cols int, pix []byte) []byte {
	b := make([]byte, 16, 16+len(pix))
	binary.BigEndian.PutUint32(b[0:], idxImagesMagic)
	binary.BigEndian.PutUint32(b[4:], uint32(n))
	binary.BigEndian.PutUint32(b[8:], uint32(rows))
	binary.BigEndian.PutUint32(b[12:], uint32(cols))
	return append(b, pix...)
}

// idxLabels encodes an idx1-ubyte label file.
func idxLabels(labels []byte) []byte {
	b := make([]byte, 8, 8+len(labels))
	binary.BigEndian.PutUint32(b[0:], idxLabelsMagic)
	binary.BigEndian.PutUint32(b[4:], uint32(len(labels)))
	return append(b, labels...)
}

func gz(t testing.TB, b []byte) []byte {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	if _, err := w.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestIDXRoundTrip(t *testing.T) {
	pix := make([]byte, 3*4*5)
	for i := range pix {
		pix[i] = byte(i * 7)
	}
	n, rows, cols, got, err := ReadIDXImages(bytes.NewReader(idxImages(3, 4, 5, pix)), 0)
	if err != nil {
		t.Fatal(err)
	}
	if n != 3 || rows != 4 || cols != 5 || !bytes.Equal(got, pix) {
		t.Errorf("images: got n=%d %dx%d %v", n, rows, cols, got)
	}
	labels := []byte{3, 1, 4, 1, 5}
	gotL, err := ReadIDXLabels(bytes.NewReader(idxLabels(labels)), 5)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(gotL, labels) {
		t.Errorf("labels: got %v, want %v", gotL, labels)
	}
	// Larger than the first read chunk, so the buffer has to grow.
	big := bytes.Repeat([]byte{1, 2, 3}, readChunk)
	if _, _, _, got, err := ReadIDXImages(bytes.NewReader(idxImages(3, 1024, readChunk/1024, big)), 0); err != nil || !bytes.Equal(got, big) {
		t.Errorf("large images: err %v, equal %v", err, bytes.Equal(got, big))
	}
	// Zero items is a valid (empty) stream.
	if gotL, err := ReadIDXLabels(bytes.NewReader(idxLabels(nil)), 0); err != nil || len(gotL) != 0 {
		t.Errorf("no labels: %v, %v", gotL, err)
	}
}

func TestIDXBadInput(t *testing.T) {
	good := idxImages(2, 2, 2, []byte{1, 2, 3, 4, 5, 6, 7, 8})
	setU32 := func(b []byte, off int, v uint32) []byte {
		b = append([]byte(nil), b...)
		binary.BigEndian.PutUint32(b[off:], v)
		return b
	}
	images := []struct {
		name, want string
		in         []byte
		max        int
	}{
		{"empty", "unexpected end", nil, 0},
		{"short header", "unexpected end", good[:10], 0},
		{"labels magic", "bad magic", idxLabels([]byte{1}), 0},
		{"garbage", "bad magic", []byte("this is not an idx file at all"), 0},
		{"truncated pixels", "truncated", good[:len(good)-1], 0},
		{"no pixels", "truncated", good[:16], 0},
		{"too many items", "limit", setU32(good, 4, 1<<31), 0},
		{"over maxItems", "limit 1", good, 1},
		{"zero rows", "rows and columns", setU32(good, 8, 0), 0},
		{"huge cols", "rows and columns", setU32(good, 12, 1<<20), 0},
		{"huge total", "MaxIDXValues", setU32(setU32(setU32(good, 4, 9_000_000), 8, 4096), 12, 4096), 0},
		// Passes the limits but the data is missing: must not allocate 1 GiB.
		{"big header short data", "truncated", setU32(setU32(setU32(good, 4, 16), 8, 4096), 12, 4096), 0},
	}
	for _, c := range images {
		_, _, _, _, err := ReadIDXImages(bytes.NewReader(c.in), c.max)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("images %s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
	goodL := idxLabels([]byte{1, 2, 3})
	labels := []struct {
		name, want string
		in         []byte
		max        int
	}{
		{"empty", "unexpected end", nil, 0},
		{"images magic", "bad magic", good, 0},
		{"truncated", "truncated", goodL[:len(goodL)-1], 0},
		{"huge count", "limit", setU32(goodL, 4, 0xffffffff), 0},
		{"over maxItems", "limit 2", goodL, 2},
		{"big count short data", "truncated", setU32(goodL, 4, 9_000_000), 0},
	}
	for _, c := range labels {
		_, err := ReadIDXLabels(bytes.NewReader(c.in), c.max)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("labels %s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
}

// writeMNIST writes the four MNIST files into a new folder, gzipping the
// images but not the labels (loading detects compression by content).
func writeMNIST(t *testing.T, trainLabels, testLabels []byte, edit func(name string, b []byte) []byte) string {
	t.Helper()
	dir := t.TempDir()
	write := func(name string, b []byte) {
		if edit != nil {
			b = edit(name, b)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	img := func(n int) []byte {
		pix := make([]byte, n*28*28)
		for i := range pix {
			pix[i] = byte(i)
		}
		return idxImages(n, 28, 28, pix)
	}
	write(MNISTTrainImages, gz(t, img(len(trainLabels))))
	write(MNISTTrainLabels, idxLabels(trainLabels))
	write(MNISTTestImages, gz(t, img(len(testLabels))))
	write(MNISTTestLabels, gz(t, idxLabels(testLabels)))
	return dir
}

func TestLoadMNISTSynthetic(t *testing.T) {
	dir := writeMNIST(t, []byte{5, 0, 4}, []byte{7, 2}, nil)
	train, test, err := LoadMNIST(dir)
	if err != nil {
		t.Fatal(err)
	}
	if train.N() != 3 || test.N() != 2 || train.Name != "mnist-train" || test.Name != "mnist-test" {
		t.Fatalf("got %v and %v", train, test)
	}
	if train.Y[0] != 5 || test.Y[1] != 2 || train.Classes != 10 || train.ClassNames[9] != "9" {
		t.Errorf("labels/classes: %v %v %d %v", train.Y, test.Y, train.Classes, train.ClassNames)
	}
	if train.Size() != 784 || len(train.Pixels) != 3*784 || train.X != nil || train.Values() != 3*784 || train.Features != nil {
		t.Errorf("shape %v, len(Pixels) %d, len(X) %d", train.Shape, len(train.Pixels), len(train.X))
	}
	x := make([]float32, 784)
	train.Read(0, x)
	if x[0] != 0 || x[255] != 1 || x[256] != 0 || x[1] != float32(1)/255 {
		t.Errorf("pixel scaling: %v %v %v", x[0], x[255], x[1])
	}
	flat, err := train.Reshape([]int{784})
	if err != nil || flat.Size() != 784 {
		t.Errorf("Reshape to [784]: %v", err)
	}
}

func TestLoadMNISTBadFiles(t *testing.T) {
	cases := []struct {
		name, want string
		train      []byte
		edit       func(name string, b []byte) []byte
	}{
		{"label out of range", "label 10 of item 1", []byte{1, 10}, nil},
		{"count mismatch", "has 1 labels but", []byte{1, 2}, func(name string, b []byte) []byte {
			if name == MNISTTrainLabels {
				return idxLabels([]byte{1})
			}
			return b
		}},
		{"trailing bytes", "unexpected bytes", []byte{1}, func(name string, b []byte) []byte {
			if name == MNISTTestLabels {
				return gz(t, append(idxLabels([]byte{7, 2}), 0))
			}
			return b
		}},
		{"truncated gzip", "unexpected EOF", []byte{1}, func(name string, b []byte) []byte {
			if name == MNISTTrainImages {
				return b[:len(b)-6]
			}
			return b
		}},
		{"no images", "no images", []byte{}, nil},
	}
	for _, c := range cases {
		dir := writeMNIST(t, c.train, []byte{7, 2}, c.edit)
		_, _, err := LoadMNIST(dir)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), dir) {
			t.Errorf("%s: error %v, want one containing %q and the folder", c.name, err, c.want)
		}
	}
}

func TestFindMNISTExplicitDir(t *testing.T) {
	dir := writeMNIST(t, []byte{1}, []byte{2}, nil)
	if got, err := FindMNIST(dir); err != nil || got != dir {
		t.Fatalf("FindMNIST(%q) = %q, %v", dir, got, err)
	}
	if err := os.Remove(filepath.Join(dir, MNISTTestLabels)); err != nil {
		t.Fatal(err)
	}
	_, err := FindMNIST(dir)
	if err == nil || !strings.Contains(err.Error(), MNISTTestLabels) || !strings.Contains(err.Error(), dir) {
		t.Errorf("FindMNIST with a missing file: %v; want the file and folder named", err)
	}
	// The environment variable is used, and checked, when dir is empty.
	t.Setenv(MNISTDirEnv, dir)
	_, err = FindMNIST("")
	if err == nil || !strings.Contains(err.Error(), MNISTDirEnv) || !strings.Contains(err.Error(), MNISTTestLabels) {
		t.Errorf("FindMNIST with a bad $%s: %v", MNISTDirEnv, err)
	}
}

func TestFindMNISTNowhere(t *testing.T) {
	// An empty module cache, no proxy: the error says how to get the data.
	t.Setenv(MNISTDirEnv, "")
	t.Setenv("GOMODCACHE", t.TempDir())
	t.Setenv("GOPROXY", "off")
	t.Setenv("GOFLAGS", "-modcacherw")
	_, err := FindMNIST("")
	if err == nil || !strings.Contains(err.Error(), "scripts/fetch-mnist.sh") || !strings.Contains(err.Error(), "--data-dir") {
		t.Errorf("FindMNIST with no data: %v", err)
	}
}

func TestEscapeModule(t *testing.T) {
	got := escapeModule(MNISTModule)
	want := "github.com/petar/!go!m!n!i!s!t@v0.0.0-20150320212226-2fbe10d0fa63"
	if got != want {
		t.Errorf("escapeModule = %q, want %q", got, want)
	}
}

// realMNIST returns the folder of the real MNIST data, or skips the test.
func realMNIST(t testing.TB) string {
	t.Helper()
	t.Setenv("GOPROXY", "off") // use the module cache, never the network
	dir, err := FindMNIST("")
	if err != nil {
		t.Skipf("MNIST data not available: %v", err)
	}
	return dir
}

func TestLoadMNISTReal(t *testing.T) {
	dir := realMNIST(t)
	start := time.Now()
	train, test, err := LoadMNIST(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("LoadMNIST(%s): %v", dir, time.Since(start))
	if train.N() != 60000 || test.N() != 10000 {
		t.Fatalf("got %d train and %d test samples, want 60000 and 10000", train.N(), test.N())
	}
	if train.Y[0] != 5 {
		t.Errorf("first training label %d, want 5", train.Y[0])
	}
	// The class counts of the original distribution.
	wantHist := map[*Dataset][10]int{
		train: {5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949},
		test:  {980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009},
	}
	for d, want := range wantHist {
		if !equalInts(d.Shape, []int{1, 28, 28}) || len(d.Pixels) != d.N()*784 || d.Classes != 10 {
			t.Errorf("%s: shape %v, len(Pixels) %d, classes %d", d.Name, d.Shape, len(d.Pixels), d.Classes)
		}
		var hist [10]int
		sum := 0
		for _, y := range d.Y {
			hist[y]++
		}
		for _, c := range hist {
			sum += c
		}
		if sum != d.N() || hist != want {
			t.Errorf("%s: label histogram %v (sum %d), want %v", d.Name, hist, sum, want)
		}
		x := d.Floats().X
		lo, hi := x[0], x[0]
		for _, v := range x {
			lo, hi = min(lo, v), max(hi, v)
		}
		if lo != 0 || hi != 1 {
			t.Errorf("%s: pixel range [%v,%v], want [0,1]", d.Name, lo, hi)
		}
	}
}

func BenchmarkLoadMNIST(b *testing.B) {
	dir := realMNIST(b)
	for b.Loop() {
		if _, _, err := LoadMNIST(dir); err != nil {
			b.Fatal(err)
		}
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
