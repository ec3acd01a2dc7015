package dataset

import (
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseCSV(t *testing.T) {
	type want struct {
		n, classes int
		classNames []string
		features   []string
		x          []float32
		y          []int
	}
	cases := []struct {
		name string
		in   string
		opt  CSVOptions
		err  string // substring of the error; "" for success
		want want
	}{
		{
			name: "label first",
			in:   "y,a,b\ncat,1,2\ndog,3,4.5\ncat,-1e-3,0\n",
			opt:  CSVOptions{Label: "y"},
			want: want{3, 2, []string{"cat", "dog"}, []string{"a", "b"}, []float32{1, 2, 3, 4.5, -1e-3, 0}, []int{0, 1, 0}},
		},
		{
			name: "label in the middle, classes sorted, spaces, CRLF, blank line",
			in:   "a, y ,b\r\n1, zeta ,2\r\n\r\n 3 ,alpha, 4\r\n5,mid,6",
			opt:  CSVOptions{Label: "y"},
			want: want{3, 3, []string{"alpha", "mid", "zeta"}, []string{"a", "b"}, []float32{1, 2, 3, 4, 5, 6}, []int{2, 0, 1}},
		},
		{
			name: "ignore and class filter in the given order",
			in:   "bt,mol,g1,g2\nB,NEG,1,2\nT,BCR,3,4\nB,OTHER,x,x\nB,BCR,5,6\n",
			opt:  CSVOptions{Label: "mol", Ignore: []string{"bt"}, Classes: []string{"NEG", "BCR"}},
			want: want{3, 2, []string{"NEG", "BCR"}, []string{"g1", "g2"}, []float32{1, 2, 3, 4, 5, 6}, []int{0, 1, 1}},
		},
		{
			name: "quoted fields and byte-order mark",
			in:   "\uFEFF\"y\",\"a,b\"\n\"x y\",\"7\"\nz,8\n",
			opt:  CSVOptions{Label: "y"},
			want: want{2, 2, []string{"x y", "z"}, []string{"a,b"}, []float32{7, 8}, []int{0, 1}},
		},
		{name: "no label given", in: "y,a\nb,1\n", err: "no label column given"},
		{name: "missing label column", in: "y,a,b\nc,1,2\n", opt: CSVOptions{Label: "class"}, err: `no label column "class"; columns are "y", "a", "b"`},
		{name: "many columns listed briefly", in: "a,b,c,d,e,f,g\n", opt: CSVOptions{Label: "z"}, err: `"e", ... (7 columns)`},
		{name: "text cell", in: "y,a,b\nc,1,2\nd,3,abc\n", opt: CSVOptions{Label: "y"}, err: `row 2 (line 3), column "b": cannot parse "abc" as a number`},
		{name: "long text cell truncated", in: "y,a\nc,1\nd," + strings.Repeat("x", 100) + "\n", opt: CSVOptions{Label: "y"}, err: `"` + strings.Repeat("x", 40) + `..."`},
		{name: "empty cell", in: "y,a\nc,1\nd,\n", opt: CSVOptions{Label: "y"}, err: `row 2 (line 3), column "a": empty cell`},
		{name: "ragged row", in: "y,a,b\nc,1,2\nd,3\n", opt: CSVOptions{Label: "y"}, err: "row 2 (line 3): got 2 fields, want 3"},
		{name: "long row", in: "y,a\nc,1,2\n", opt: CSVOptions{Label: "y"}, err: "row 1 (line 2): got 3 fields, want 2"},
		{name: "header only", in: "y,a,b\n", opt: CSVOptions{Label: "y"}, err: "no data rows"},
		{name: "empty input", in: "", opt: CSVOptions{Label: "y"}, err: "no header row"},
		{name: "one class", in: "y,a\nc,1\nc,2\n", opt: CSVOptions{Label: "y"}, err: `need at least 2 classes, label column "y" has only "c"`},
		{name: "one class after filtering", in: "y,a\nc,1\nd,2\n", opt: CSVOptions{Label: "y", Classes: []string{"c"}}, err: "need at least 2 classes"},
		{name: "NaN cell", in: "y,a\nc,1\nd,NaN\n", opt: CSVOptions{Label: "y"}, err: `row 2 (line 3), column "a": "NaN" is not a finite number`},
		{name: "Inf cell", in: "y,a\nc,-Inf\nd,1\n", opt: CSVOptions{Label: "y"}, err: `row 1 (line 2), column "a": "-Inf" is not a finite number`},
		{name: "float64 overflow", in: "y,a\nc,1e999\nd,1\n", opt: CSVOptions{Label: "y"}, err: "not a finite number"},
		{name: "float32 overflow", in: "y,a\nc,1e39\nd,1\n", opt: CSVOptions{Label: "y"}, err: "out of float32 range"},
		{name: "empty label", in: "y,a\nc,1\n ,2\n", opt: CSVOptions{Label: "y"}, err: `row 2 (line 3): empty label in column "y"`},
		{name: "class never occurs", in: "y,a\nc,1\nd,2\n", opt: CSVOptions{Label: "y", Classes: []string{"c", "e"}}, err: `class "e" never occurs`},
		{name: "class listed twice", in: "y,a\nc,1\nd,2\n", opt: CSVOptions{Label: "y", Classes: []string{"c", "c"}}, err: "listed twice"},
		{name: "empty class", in: "y,a\nc,1\nd,2\n", opt: CSVOptions{Label: "y", Classes: []string{"c", ""}}, err: "empty class name"},
		{name: "duplicate column", in: "y,a,b,a\nc,1,2,3\n", opt: CSVOptions{Label: "y"}, err: `duplicate column name "a" (columns 2 and 4)`},
		{name: "unknown ignored column", in: "y,a\nc,1\n", opt: CSVOptions{Label: "y", Ignore: []string{"q"}}, err: `ignored column "q" is not in the header`},
		{name: "label ignored", in: "y,a\nc,1\n", opt: CSVOptions{Label: "y", Ignore: []string{"y"}}, err: "both the label and ignored"},
		{name: "no features", in: "y,z\nc,d\n", opt: CSVOptions{Label: "y", Ignore: []string{"z"}}, err: "no feature columns"},
		{name: "bad quote", in: "y,a\nc,1\"x\n", opt: CSVOptions{Label: "y"}, err: "line 2"},
		{name: "CR line endings", in: "y,a\rc,1\rd,2\rc,1\r", opt: CSVOptions{Label: "y"}, err: "the lines end with a carriage return (CR) alone"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d, err := ParseCSVWith(strings.NewReader(c.in), "t", c.opt)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) || !strings.HasPrefix(err.Error(), "t: ") {
					t.Fatalf("error %v, want one starting %q and containing %q", err, "t: ", c.err)
				}
				if strings.Contains(err.Error(), "\n") {
					t.Errorf("error spans lines: %q", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			w := c.want
			got := want{d.N(), d.Classes, d.ClassNames, d.Features, d.X, d.Y}
			if !reflect.DeepEqual(got, w) {
				t.Errorf("got  %+v\nwant %+v", got, w)
			}
			if d.Name != "t" || !reflect.DeepEqual(d.Shape, []int{len(w.features)}) {
				t.Errorf("name %q, shape %v", d.Name, d.Shape)
			}
		})
	}
}

func TestReadCSVPlainAndGzip(t *testing.T) {
	const in = "f1,label,f2\n1,b,2\n3,a,4\n"
	dir := t.TempDir()
	plain := filepath.Join(dir, "plain.csv")
	zipped := filepath.Join(dir, "zipped.data") // compression is found by content
	if err := os.WriteFile(plain, []byte(in), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(zipped, gz(t, []byte(in)), 0o644); err != nil {
		t.Fatal(err)
	}
	for path, name := range map[string]string{plain: "plain", zipped: "zipped"} {
		d, err := ReadCSV(path, "label")
		if err != nil {
			t.Fatal(err)
		}
		if d.Name != name || d.N() != 2 || !reflect.DeepEqual(d.Y, []int{1, 0}) || !reflect.DeepEqual(d.X, []float32{1, 2, 3, 4}) {
			t.Errorf("%s: got %v %v %v", path, d, d.X, d.Y)
		}
	}
	// Errors name the file.
	if _, err := ReadCSV(plain, "nope"); err == nil || !strings.Contains(err.Error(), plain) {
		t.Errorf("missing label: %v", err)
	}
	if _, err := ReadCSV(filepath.Join(dir, "absent.csv"), "label"); err == nil || !strings.Contains(err.Error(), "absent.csv") {
		t.Errorf("absent file: %v", err)
	}
	// A corrupt gzip stream is an error, not silently short data.
	z := gz(t, []byte(in))
	z[len(z)-5] ^= 0xff // the length/CRC trailer
	bad := filepath.Join(dir, "bad.csv.gz")
	if err := os.WriteFile(bad, z, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadCSV(bad, "label"); err == nil || !strings.Contains(err.Error(), bad) {
		t.Errorf("corrupt gzip: %v", err)
	}
}

func TestCSVName(t *testing.T) {
	for in, want := range map[string]string{
		"data/all.csv.gz": "all", "x.csv": "x", "dir/noext": "noext", ".csv": ".csv", "a.b.tsv": "a.b",
	} {
		if got := csvName(in); got != want {
			t.Errorf("csvName(%q) = %q, want %q", in, got, want)
		}
	}
}

const genesCSV = "/work/shared/data/genes/all.csv.gz"

func genesPath(t *testing.T) string {
	t.Helper()
	if _, err := os.Stat(genesCSV); err != nil {
		t.Skipf("gene table not available: %v", err)
	}
	return genesCSV
}

func TestReadCSVGenes(t *testing.T) {
	path := genesPath(t)
	start := time.Now()
	d, err := ReadCSVWith(path, CSVOptions{Label: "bt", Ignore: []string{"mol_biol"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s with label bt: %v", path, time.Since(start))
	if d.N() != 128 || d.Size() != 12625 || len(d.Features) != 12625 || d.Features[0] != "1000_at" {
		t.Fatalf("got %v, features %d", d, len(d.Features))
	}
	if !reflect.DeepEqual(d.ClassNames, []string{"B", "T"}) || count(d.Y, 0) != 95 || count(d.Y, 1) != 33 {
		t.Errorf("classes %v, counts %d/%d", d.ClassNames, count(d.Y, 0), count(d.Y, 1))
	}
	for i, v := range d.X {
		// log2 expression values
		if math.IsNaN(float64(v)) || v < 0 || v > 20 {
			t.Fatalf("value %v at %d out of the expected range", v, i)
		}
	}

	d, err = ReadCSVWith(path, CSVOptions{Label: "mol_biol", Ignore: []string{"bt"}, Classes: []string{"BCR-ABL", "NEG"}})
	if err != nil {
		t.Fatal(err)
	}
	if d.N() != 111 || count(d.Y, 0) != 37 || count(d.Y, 1) != 74 || !reflect.DeepEqual(d.ClassNames, []string{"BCR-ABL", "NEG"}) {
		t.Errorf("BCR-ABL vs NEG: %v, counts %d/%d", d, count(d.Y, 0), count(d.Y, 1))
	}
}

func BenchmarkReadCSVGenes(b *testing.B) {
	if _, err := os.Stat(genesCSV); err != nil {
		b.Skipf("gene table not available: %v", err)
	}
	for b.Loop() {
		if _, err := ReadCSVWith(genesCSV, CSVOptions{Label: "bt", Ignore: []string{"mol_biol"}}); err != nil {
			b.Fatal(err)
		}
	}
}

func count(y []int, c int) int {
	n := 0
	for _, v := range y {
		if v == c {
			n++
		}
	}
	return n
}
