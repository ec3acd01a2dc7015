package dataset

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"

	"github.com/pkg/errors"
)

// Format is an on-disk layout of image data that Load recognises.
type Format string

// The formats Load recognises.
const (
	// FormatIDX is a folder with the four idx files of MNIST's
	// distribution, each gzipped or not (IDXFiles). MNIST and
	// Fashion-MNIST come in it.
	FormatIDX Format = "idx"
	// FormatCIFAR10 is the folder of CIFAR-10's binary version: five
	// training batches and one test batch (CIFAR10Files), optionally
	// batches.meta.txt with the class names.
	FormatCIFAR10 Format = "cifar-10-bin"
)

// IDXFiles are the base names of the four idx files of FormatIDX, in the
// order training images, training labels, test images, test labels. Each
// may be present as is or with a ".gz" suffix; when both are, the gzipped
// one is read.
var IDXFiles = []string{
	"train-images-idx3-ubyte",
	"train-labels-idx1-ubyte",
	"t10k-images-idx3-ubyte",
	"t10k-labels-idx1-ubyte",
}

// CIFAR10Files are the six batch files of FormatCIFAR10: the five training
// batches, then the test batch.
var CIFAR10Files = []string{
	"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin",
	"data_batch_4.bin", "data_batch_5.bin", "test_batch.bin",
}

// CIFAR10Subdir is the folder the CIFAR-10 archive unpacks to; Load looks
// into it when the folder it is given holds no known format.
const CIFAR10Subdir = "cifar-10-batches-bin"

// The names Load gives the data sets it identifies.
const (
	NameMNIST        = "mnist"
	NameFashionMNIST = "fashion-mnist"
	NameCIFAR10      = "cifar-10"
)

// Info describes a data set that Load read.
type Info struct {
	// Name identifies the data set for provenance: NameMNIST,
	// NameFashionMNIST or NameCIFAR10, or for an idx set that is neither
	// MNIST nor Fashion-MNIST the folder's base name, lower-cased, with
	// spaces replaced by '-'. The datasets are named Name+"-train" and
	// Name+"-test".
	Name string `json:"name"`
	// Format is the layout the data was read from.
	Format Format `json:"format"`
	// Dir is the folder the files were read from (for CIFAR-10 possibly
	// the CIFAR10Subdir below the folder given).
	Dir string `json:"dir"`
	// Mean and Std are the per-channel mean and (population) standard
	// deviation of the training set's pixels in [0,1], one value per
	// channel (Dataset.Channels). Pass them to Normalize, for the training
	// and the test set alike, to standardise the inputs.
	Mean []float32 `json:"mean"`
	Std  []float32 `json:"std"`
	// Augment is the training augmentation recommended for the data set:
	// none (the zero value) for MNIST and other idx data, a 2-pixel padded
	// random crop and horizontal flips for Fashion-MNIST, a 4-pixel one and
	// flips for CIFAR-10.
	Augment Augment `json:"augment"`
}

// Test label hashes (SHA-256 of the 10,000 label bytes of
// t10k-labels-idx1-ubyte, without the header) of the idx sets Load names.
var idxSetHashes = map[string]string{
	"ddeff807876a9661a1110d45c266c86239a3a1b7d37da0c3716a7a683c852ff5": NameMNIST,
	"3d0e6c6ea990b53b6f8f500a41cac93881d981b315f84578b7d915342ade01e9": NameFashionMNIST,
}

// FashionMNISTClassNames are the class names of Fashion-MNIST, in label
// order.
var FashionMNISTClassNames = []string{
	"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
	"Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
}

// Load reads the training and test sets in the folder dir, recognising its
// format, and describes them in info. Pixels are scaled to [0,1]
// (byte/255) and not otherwise changed: Normalize with info.Mean and
// info.Std standardises them.
//
// An empty dir means MNIST, found as FindMNIST("") finds it: Load("") reads
// the folder LoadMNIST("") reads and returns the same datasets (unless the
// folder holds Fashion-MNIST, which is named as such). Otherwise the folder must
// hold one of:
//
//   - FormatIDX: the four IDXFiles, gzipped or not. Samples have shape
//     [1,rows,cols]; labels must lie in 0-9. The set is identified by the
//     SHA-256 of its test labels, which is robust to the files' names,
//     compression and folder: the original MNIST test labels give
//     NameMNIST (classes "0".."9"), Fashion-MNIST's give NameFashionMNIST
//     (classes FashionMNISTClassNames); any other set is named after the
//     folder, with classes "0".."9".
//   - FormatCIFAR10: the six CIFAR10Files, in dir or in its CIFAR10Subdir.
//     Each file holds records of 3073 bytes: a label byte, then 1024 red,
//     1024 green and 1024 blue bytes, each a 32×32 row-major plane. Samples
//     have shape [3,32,32]. The class names come from batches.meta.txt
//     (one per non-empty line) if present, else CIFAR10ClassNames; labels
//     must be below their number.
//
// Errors are one line: a folder with some but not all files of a format
// gets one naming the files missing, a folder with none one listing the
// formats recognised; errors in a file name it. idx being the default
// format, the errors for idx files, for a folder with none of the known
// files and for a folder that does not exist begin as FindMNIST's do
// ("MNIST folder DIR: missing ...", "MNIST folder DIR does not exist"), so
// callers that match those keep working.
func Load(dir string) (train, test *Dataset, info Info, err error) {
	if dir == "" {
		d, err := FindMNIST("")
		if err != nil {
			return nil, nil, Info{}, err
		}
		return loadIDX(d, idxPaths(d, mnistFiles), NameMNIST)
	}
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return nil, nil, Info{}, errors.Errorf("MNIST folder %s does not exist or is not a folder", dir)
	}
	f, files, err := detect(dir)
	if err != nil {
		return nil, nil, Info{}, err
	}
	if f == "" {
		sub := filepath.Join(dir, CIFAR10Subdir)
		if st, err := os.Stat(sub); err == nil && st.IsDir() {
			if f, files, err = detect(sub); err != nil {
				return nil, nil, Info{}, err
			}
			if f == FormatCIFAR10 {
				return loadCIFAR10(sub, files)
			}
		}
		return nil, nil, Info{}, errors.Errorf("MNIST folder %s: missing %s (the idx format of MNIST and Fashion-MNIST); "+
			"nor is it a CIFAR-10 folder, the other format recognised (%s, in the folder or its %s subfolder)",
			dir, describe(IDXFiles, "[.gz]"), describe(CIFAR10Files, ""), CIFAR10Subdir)
	}
	if f == FormatCIFAR10 {
		return loadCIFAR10(dir, files)
	}
	var paths [4]string
	copy(paths[:], files)
	return loadIDX(dir, paths, folderName(dir))
}

// describe lists file names in an error message, each with suffix.
func describe(files []string, suffix string) string {
	return strings.Join(files, suffix+", ") + suffix
}

// detect returns the format of the files in dir and their paths, or ""
// if dir holds none of them. A folder with some but not all files of a
// format, or with files of both, is an error.
func detect(dir string) (Format, []string, error) {
	var idx, idxMissing []string
	for _, f := range IDXFiles {
		switch p := filepath.Join(dir, f); {
		case isFile(p + ".gz"):
			idx = append(idx, p+".gz")
		case isFile(p):
			idx = append(idx, p)
		default:
			idxMissing = append(idxMissing, f+"[.gz]")
		}
	}
	var cifar, cifarMissing []string
	for _, f := range CIFAR10Files {
		if p := filepath.Join(dir, f); isFile(p) {
			cifar = append(cifar, p)
		} else {
			cifarMissing = append(cifarMissing, f)
		}
	}
	switch {
	case len(idx) > 0 && len(cifar) > 0:
		return "", nil, errors.Errorf("data folder %s holds both idx and CIFAR-10 files; keep one format per folder", dir)
	case len(idxMissing) == 0:
		return FormatIDX, idx, nil
	case len(idx) > 0:
		return "", nil, errors.Errorf("MNIST folder %s: missing %s", dir, strings.Join(idxMissing, ", "))
	case len(cifarMissing) == 0:
		return FormatCIFAR10, cifar, nil
	case len(cifar) > 0:
		return "", nil, errors.Errorf("CIFAR-10 folder %s: missing %s", dir, strings.Join(cifarMissing, ", "))
	}
	return "", nil, nil
}

func isFile(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.Mode().IsRegular()
}

// folderName derives a data set's name from its folder.
func folderName(dir string) string {
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	name := strings.ToLower(strings.ReplaceAll(filepath.Base(dir), " ", "-"))
	if name == "" || name == "." || name == string(filepath.Separator) {
		return "idx"
	}
	return name
}

// loadIDX reads an idx folder, identifies the set by its test labels
// (fallback: the name given) and fills in the info.
func loadIDX(dir string, paths [4]string, fallback string) (train, test *Dataset, info Info, err error) {
	train, test, err = loadIDXDir("idx", paths)
	if err != nil {
		return nil, nil, Info{}, err
	}
	name := identifyIDX(test)
	if name == "" {
		name = fallback
	}
	if name == NameFashionMNIST {
		train.ClassNames = cloneStrings(FashionMNISTClassNames)
		test.ClassNames = cloneStrings(FashionMNISTClassNames)
	}
	train.Name, test.Name = name+"-train", name+"-test"
	info = Info{Name: name, Format: FormatIDX, Dir: dir}
	if name == NameFashionMNIST {
		// Clothes survive a mirror and a shift; digits do not.
		info.Augment = Augment{Pad: 2, Flip: true}
	}
	info.Mean, info.Std = train.ChannelStats()
	return train, test, info, nil
}

// identifyIDX returns the name of the idx set whose test labels hash as
// test's do, or "".
func identifyIDX(test *Dataset) string {
	if test.N() != 10000 {
		return ""
	}
	b := make([]byte, test.N())
	for i, y := range test.Y {
		b[i] = byte(y)
	}
	h := sha256.Sum256(b)
	return idxSetHashes[hex.EncodeToString(h[:])]
}
