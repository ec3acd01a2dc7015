package dataset

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// gzipped compresses b.
func gzipped(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestIDXValueLimit: an idx image file may hold at most MaxIDXValues
// pixels (each a float32 once loaded); a gzipped file claiming 5.47
// million 28×28 images (4.29 billion pixels, 17 GB as float32) is refused
// from its header, and one at the limit's edge is read.
func TestIDXValueLimit(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "train-images-idx3-ubyte.gz")
	if err := os.WriteFile(path, gzipped(t, idxImages(5_470_000, 28, 28, make([]byte, 1<<20))), 0o644); err != nil {
		t.Fatal(err)
	}
	err := readIDXFile(path, func(r io.Reader) error {
		_, _, _, _, err := readIDXImages(r, MaxIDXItems)
		return err
	})
	if err == nil || !strings.Contains(err.Error(), "dataset.MaxIDXValues") || !strings.Contains(err.Error(), path) {
		t.Fatalf("got %v, want an error naming the file and MaxIDXValues", err)
	}
	// 4096×4096 images: 16 of them are MaxIDXValues, 17 are over.
	if _, _, _, _, err := ReadIDXImages(bytes.NewReader(idxImages(17, 4096, 4096, nil)), 0); err == nil || !strings.Contains(err.Error(), "MaxIDXValues") {
		t.Errorf("17 images of 4096×4096: %v", err)
	}
	if _, _, _, _, err := ReadIDXImages(bytes.NewReader(idxImages(16, 4096, 4096, nil)), 0); err == nil || !strings.Contains(err.Error(), "truncated") {
		t.Errorf("16 images of 4096×4096 and no pixels: %v, want truncated", err)
	}
}

// TestCSVLimits: a CSV table is refused, with an error naming the limit, as
// soon as a row, the header's columns or the cells of its data rows go over
// their bounds (small ones here), by ParseCSVWith and ParseTable alike.
func TestCSVLimits(t *testing.T) {
	lim := csvLimits{rowBytes: 1000, columns: 50, cells: 300}
	row := func(cells int) string { return strings.TrimSuffix(strings.Repeat("1,", cells), ",") + "\n" }
	header := func(cols int) string {
		var b strings.Builder
		for j := 0; j < cols-1; j++ {
			b.WriteString("x" + string(rune('a'+j%26)) + strings.Repeat("_", j/26) + ",")
		}
		b.WriteString("y\n")
		return b.String()
	}
	rows := func(n, cols int) string {
		var b strings.Builder
		for i := range n {
			b.WriteString(strings.TrimSuffix(row(cols), "\n") + "," + string(rune('0'+i%2)) + "\n")
		}
		return b.String()
	}
	for _, c := range []struct {
		name, in, want string
	}{
		{"long header", "y," + strings.Repeat("a", 2000) + "\n1,2\n", "longer than 1000 bytes (dataset.MaxCSVRowBytes)"},
		{"long data row", header(2) + "1,0\n" + strings.Repeat("1", 5000) + ",1\n", "row 2: a row is longer than 1000 bytes"},
		{"many columns", header(51) + rows(2, 50), "the header has 51 columns, more than 50 (dataset.MaxCSVColumns)"},
		{"many cells", header(10) + rows(31, 9), "row 31 (line 32): more than 300 cells (dataset.MaxCSVCells)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := parseCSV(strings.NewReader(c.in), CSVOptions{Label: "y"}, lim)
			if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("ParseCSV: got %v, want one line mentioning %q", err, c.want)
			}
			_, _, _, _, _, err = parseTable(strings.NewReader(c.in), "y", lim)
			if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("ParseTable: got %v, want one line mentioning %q", err, c.want)
			}
		})
	}
	// At the limits: 50 columns, 30 rows of 10 cells.
	if _, err := parseCSV(strings.NewReader(header(10)+rows(30, 9)), CSVOptions{Label: "y"}, lim); err != nil {
		t.Errorf("at the cell limit: %v", err)
	}
	if _, err := parseCSV(strings.NewReader(header(50)+rows(2, 49)), CSVOptions{Label: "y"}, lim); err != nil {
		t.Errorf("at the column limit: %v", err)
	}
}

// TestReadCSVInflatedRow: a gzipped CSV file of 40 kB whose one row
// inflates to 40 MB is refused once the row passes MaxCSVRowBytes.
func TestReadCSVInflatedRow(t *testing.T) {
	in := "a,y\n" + strings.Repeat("0", 40<<20) + ",1\n"
	z := gzipped(t, []byte(in))
	path := filepath.Join(t.TempDir(), "big.csv.gz")
	if err := os.WriteFile(path, z, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := ReadCSV(path, "y")
	if err == nil || !strings.Contains(err.Error(), "dataset.MaxCSVRowBytes") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("%d-byte file: got %v, want one line naming MaxCSVRowBytes", len(z), err)
	}
	if _, _, _, _, _, err := ReadTable(path, "y"); err == nil || !strings.Contains(err.Error(), "dataset.MaxCSVRowBytes") {
		t.Fatalf("ReadTable: got %v, want an error naming MaxCSVRowBytes", err)
	}
}
