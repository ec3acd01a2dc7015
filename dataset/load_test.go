package dataset

import (
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// writeFile writes b to dir/name, creating dir.
func writeFile(t *testing.T, dir, name string, b []byte) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestLoadIDXPlainFiles(t *testing.T) {
	// The same set, gzipped with the MNIST file names and plain without
	// the .gz suffix in a folder whose name gives the set's name.
	gzDir := writeMNIST(t, []byte{5, 0, 4}, []byte{7, 2}, nil)
	dir := filepath.Join(t.TempDir(), "My Digits")
	for _, f := range IDXFiles {
		b := readGunzip(t, filepath.Join(gzDir, f+".gz"))
		writeFile(t, dir, f, b)
	}
	train, test, info, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	wantTrain, wantTest, err := LoadMNIST(gzDir)
	if err != nil {
		t.Fatal(err)
	}
	if info.Name != "my-digits" || info.Format != FormatIDX || info.Dir != dir || !info.Augment.IsZero() {
		t.Errorf("info %+v", info)
	}
	if train.Name != "my-digits-train" || test.Name != "my-digits-test" {
		t.Errorf("names %q, %q", train.Name, test.Name)
	}
	wantTrain.Name, wantTest.Name = train.Name, test.Name
	if !reflect.DeepEqual(train, wantTrain) || !reflect.DeepEqual(test, wantTest) {
		t.Errorf("Load gives %v and %v, LoadMNIST %v and %v", train, test, wantTrain, wantTest)
	}
	mean, std := train.ChannelStats()
	if !reflect.DeepEqual(info.Mean, mean) || !reflect.DeepEqual(info.Std, std) || len(mean) != 1 {
		t.Errorf("info stats %v %v, ChannelStats %v %v", info.Mean, info.Std, mean, std)
	}
}

func readGunzip(t *testing.T, path string) []byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, closeFn, err := maybeGunzip(f)
	if err != nil {
		t.Fatal(err)
	}
	defer closeFn()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestLoadDefaultIsLoadMNIST(t *testing.T) {
	dir := writeMNIST(t, []byte{5, 0, 4}, []byte{7, 2}, nil)
	t.Setenv(MNISTDirEnv, dir)
	train, test, info, err := Load("")
	if err != nil {
		t.Fatal(err)
	}
	wantTrain, wantTest, err := LoadMNIST("")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(train, wantTrain) || !reflect.DeepEqual(test, wantTest) {
		t.Errorf("Load(\"\") gives %v and %v, LoadMNIST(\"\") %v and %v", train, test, wantTrain, wantTest)
	}
	if info.Name != NameMNIST || info.Dir != dir || !info.Augment.IsZero() {
		t.Errorf("info %+v", info)
	}
	// An explicit folder of unknown content is named after the folder.
	if _, _, info, err := Load(dir); err != nil || info.Name != folderName(dir) {
		t.Errorf("Load(%s): name %q, %v", dir, info.Name, err)
	}
}

func TestLoadErrors(t *testing.T) {
	// Three of four idx files, one of them plain.
	idx := writeMNIST(t, []byte{1}, []byte{2}, nil)
	if err := os.Remove(filepath.Join(idx, MNISTTestLabels)); err != nil {
		t.Fatal(err)
	}
	_, _, _, err := Load(idx)
	checkOneLine(t, "three idx files", err, "MNIST folder "+idx+": missing t10k-labels-idx1-ubyte[.gz]")

	empty := t.TempDir()
	writeFile(t, empty, "README", []byte("hello"))
	_, _, _, err = Load(empty)
	checkOneLine(t, "no known files", err, "MNIST folder "+empty+": missing", "format recognised", "train-images-idx3-ubyte[.gz]",
		"t10k-labels-idx1-ubyte[.gz]", "data_batch_1.bin", "test_batch.bin", CIFAR10Subdir)

	_, _, _, err = Load(filepath.Join(empty, "nowhere"))
	checkOneLine(t, "no folder", err, "MNIST folder "+filepath.Join(empty, "nowhere")+" does not exist")

	both := writeMNIST(t, []byte{1}, []byte{2}, nil)
	writeFile(t, both, "test_batch.bin", make([]byte, CIFAR10RecordSize))
	_, _, _, err = Load(both)
	checkOneLine(t, "both formats", err, both, "both idx and CIFAR-10")

	// Errors in the files themselves still name the file.
	bad := writeMNIST(t, []byte{1, 10}, []byte{2}, nil)
	_, _, _, err = Load(bad)
	checkOneLine(t, "bad label", err, filepath.Join(bad, MNISTTrainLabels), "label 10 of item 1")
}

// writeCIFAR writes the six CIFAR-10 batches into dir, perFile records
// each. Record j of file f has label (f+j)%10 and pixel bytes
// (f*7+j*3+p)%256 for pixel p.
func writeCIFAR(t *testing.T, dir string, perFile int) {
	t.Helper()
	for f, name := range CIFAR10Files {
		b := make([]byte, 0, perFile*CIFAR10RecordSize)
		for j := range perFile {
			b = append(b, byte((f+j)%10))
			for p := range CIFAR10ImageSize {
				b = append(b, byte(f*7+j*3+p))
			}
		}
		writeFile(t, dir, name, b)
	}
}

func TestLoadCIFAR10(t *testing.T) {
	dir := t.TempDir()
	writeCIFAR(t, dir, 3)
	train, test, info, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if train.N() != 15 || test.N() != 3 || train.Name != "cifar-10-train" || test.Name != "cifar-10-test" {
		t.Fatalf("got %v and %v", train, test)
	}
	for _, d := range []*Dataset{train, test} {
		if !equalInts(d.Shape, []int{3, 32, 32}) || len(d.Pixels) != d.N()*3072 || d.X != nil || d.Classes != 10 ||
			!reflect.DeepEqual(d.ClassNames, CIFAR10ClassNames) || d.Channels() != 3 {
			t.Errorf("%s: shape %v, len(Pixels) %d, classes %d %v", d.Name, d.Shape, len(d.Pixels), d.Classes, d.ClassNames)
		}
	}
	// Sample 4 of the training set is record 1 of data_batch_2.bin (f=1).
	// Pixel (c=2, y=3, x=5) is byte 2*1024+3*32+5.
	if train.Y[4] != 2 || test.Y[2] != 7 {
		t.Errorf("labels %v, %v", train.Y, test.Y)
	}
	p := 2*1024 + 3*32 + 5
	x := make([]float32, 3072)
	train.Read(4, x)
	if got, want := x[p], float32(byte(7+3+p))/255; got != want {
		t.Errorf("train sample 4, pixel %d: %v, want %v", p, got, want)
	}
	test.Read(2, x)
	if got, want := x[p], float32(byte(5*7+2*3+p))/255; got != want {
		t.Errorf("test sample 2, pixel %d: %v, want %v", p, got, want)
	}
	want := Info{Name: NameCIFAR10, Format: FormatCIFAR10, Dir: dir, Augment: Augment{Pad: 4, Flip: true}}
	want.Mean, want.Std = train.ChannelStats()
	if !reflect.DeepEqual(info, want) || len(info.Mean) != 3 {
		t.Errorf("info %+v, want %+v", info, want)
	}

	// Class names from batches.meta.txt; labels must be below their number.
	names := "zero\none\ntwo\nthree\nfour\nfive\nsix\nseven\neight\nnine\n\n"
	writeFile(t, dir, CIFAR10Meta, []byte(names))
	if train, _, _, err := Load(dir); err != nil || train.ClassNames[9] != "nine" || train.Classes != 10 {
		t.Errorf("with %s: %v, %v", CIFAR10Meta, err, train)
	}
	writeFile(t, dir, CIFAR10Meta, []byte("cat\ndog\n"))
	_, _, _, err = Load(dir)
	checkOneLine(t, "labels beyond the meta names", err, "data_batch_1.bin", "label 2 of record 2", "0-1")
	writeFile(t, dir, CIFAR10Meta, []byte("cat\n"))
	_, _, _, err = Load(dir)
	checkOneLine(t, "one class", err, CIFAR10Meta, "1 class names")
}

func TestLoadCIFAR10Subdir(t *testing.T) {
	dir := t.TempDir()
	sub := filepath.Join(dir, CIFAR10Subdir)
	writeCIFAR(t, sub, 1)
	train, test, info, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if train.N() != 5 || test.N() != 1 || info.Dir != sub || info.Name != NameCIFAR10 {
		t.Errorf("got %v, %v, %+v", train, test, info)
	}
}

func TestLoadCIFAR10BadFiles(t *testing.T) {
	dir := t.TempDir()
	writeCIFAR(t, dir, 2)
	bad := filepath.Join(dir, "data_batch_3.bin")
	b, err := os.ReadFile(bad)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, "data_batch_3.bin", b[:len(b)-5])
	_, _, _, err = Load(dir)
	checkOneLine(t, "short record", err, bad, "6141 bytes", "3073-byte")

	writeFile(t, dir, "data_batch_3.bin", nil)
	_, _, _, err = Load(dir)
	checkOneLine(t, "empty file", err, bad, "empty")

	if err := os.Remove(bad); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, "test_batch.bin")); err != nil {
		t.Fatal(err)
	}
	_, _, _, err = Load(dir)
	checkOneLine(t, "missing batches", err, dir, "missing data_batch_3.bin, test_batch.bin")
}

// copyTestLabels writes a folder named name holding the real test labels
// of the idx set in src and 1×1 images, so that it is small.
func copyTestLabels(t *testing.T, src, name string) string {
	t.Helper()
	labels := readGunzip(t, filepath.Join(src, MNISTTestLabels))
	n := len(labels) - 8
	dir := filepath.Join(t.TempDir(), name)
	writeFile(t, dir, MNISTTestLabels, labels)
	writeFile(t, dir, MNISTTestImages, idxImages(n, 1, 1, make([]byte, n)))
	writeFile(t, dir, MNISTTrainLabels, idxLabels([]byte{1, 2}))
	writeFile(t, dir, MNISTTrainImages, idxImages(2, 1, 1, []byte{0, 255}))
	return dir
}

// The real data, where present: MNIST from the module cache and
// Fashion-MNIST from Debian's dataset-fashion-mnist package.
const fashionMNISTDir = "/usr/share/datasets/fashion-mnist"

func TestLoadIdentifiesByContent(t *testing.T) {
	for _, c := range []struct {
		src  func(t *testing.T) string
		want string
	}{
		{func(t *testing.T) string { return realMNIST(t) }, NameMNIST},
		{func(t *testing.T) string { return realFashionMNIST(t) }, NameFashionMNIST},
	} {
		t.Run(c.want, func(t *testing.T) {
			// Named by content, not by the (misleading) folder name.
			dir := copyTestLabels(t, c.src(t), "not-"+c.want)
			train, test, info, err := Load(dir)
			if err != nil {
				t.Fatal(err)
			}
			if info.Name != c.want || train.Name != c.want+"-train" || test.Name != c.want+"-test" {
				t.Errorf("names %q, %q, %q; want %q", info.Name, train.Name, test.Name, c.want)
			}
			if info.Mean[0] != 0.5 || info.Std[0] != 0.5 {
				t.Errorf("stats of pixels {0,1}: %v, %v", info.Mean, info.Std)
			}
		})
	}
}

func realFashionMNIST(t *testing.T) string {
	t.Helper()
	if _, err := os.Stat(fashionMNISTDir); err != nil {
		t.Skipf("Fashion-MNIST not installed: %v", err)
	}
	return fashionMNISTDir
}

func TestLoadFashionMNISTReal(t *testing.T) {
	dir := realFashionMNIST(t)
	train, test, info, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if train.N() != 60000 || test.N() != 10000 {
		t.Fatalf("got %d train and %d test samples, want 60000 and 10000", train.N(), test.N())
	}
	if info.Name != NameFashionMNIST || train.Name != "fashion-mnist-train" || info.Format != FormatIDX || info.Augment != (Augment{Pad: 2, Flip: true}) {
		t.Errorf("info %+v, train %v", info, train)
	}
	if !reflect.DeepEqual(test.ClassNames, FashionMNISTClassNames) || !equalInts(test.Shape, []int{1, 28, 28}) {
		t.Errorf("classes %q, shape %v", test.ClassNames, test.Shape)
	}
	// Fashion-MNIST's first training item is an ankle boot, its first test
	// item too; the published statistics are 0.2860 and 0.3530.
	if train.Y[0] != 9 || test.Y[0] != 9 {
		t.Errorf("first labels %d, %d; want 9, 9", train.Y[0], test.Y[0])
	}
	if math.Abs(float64(info.Mean[0])-0.2860) > 1e-4 || math.Abs(float64(info.Std[0])-0.3530) > 1e-4 {
		t.Errorf("mean %v, std %v; want 0.2860, 0.3530", info.Mean, info.Std)
	}
}

func TestLoadMNISTRealDefault(t *testing.T) {
	if testing.Short() {
		t.Skip("reads MNIST twice")
	}
	dir := realMNIST(t)
	t.Setenv(MNISTDirEnv, "")
	train, test, info, err := Load("")
	if err != nil {
		t.Fatal(err)
	}
	wantTrain, wantTest, err := LoadMNIST(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(train, wantTrain) || !reflect.DeepEqual(test, wantTest) {
		t.Errorf("Load(\"\") and LoadMNIST(%s) differ", dir)
	}
	// The well-known MNIST statistics.
	if info.Name != NameMNIST || math.Abs(float64(info.Mean[0])-0.1307) > 1e-4 || math.Abs(float64(info.Std[0])-0.3081) > 1e-4 {
		t.Errorf("info %+v; want mnist, mean 0.1307, std 0.3081", info)
	}
}
