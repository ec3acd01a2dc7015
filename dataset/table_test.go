package dataset

import (
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestParseTable(t *testing.T) {
	in := "\uFEFF a , y ,b\n1, 0.5 ,2\n\n-3,1e3,4.25\n"
	X, n, d, y, features, err := ParseTable(strings.NewReader(in), "y")
	if err != nil {
		t.Fatal(err)
	}
	if n != 2 || d != 2 {
		t.Fatalf("n, d = %d, %d; want 2, 2", n, d)
	}
	if !reflect.DeepEqual(X, []float64{1, 2, -3, 4.25}) || !reflect.DeepEqual(y, []float64{0.5, 1000}) ||
		!reflect.DeepEqual(features, []string{"a", "b"}) {
		t.Errorf("X %v, y %v, features %v", X, y, features)
	}
}

func TestParseTableErrors(t *testing.T) {
	cases := []struct {
		name, in, label, want string
	}{
		{"no label given", "a,y\n1,2\n", "", "no label column given"},
		{"empty input", "", "y", "no header row"},
		{"missing label column", "a,b\n1,2\n", "y", `no label column "y"`},
		{"duplicate column", "a,a,y\n1,2,3\n", "y", `duplicate column name "a"`},
		{"only the label", "y\n1\n", "y", "no feature columns"},
		{"zero rows", "a,y\n", "y", "no data rows"},
		{"non-numeric feature", "a,y\n1,2\nx,3\n", "y", `row 2 (line 3), column "a": cannot parse "x"`},
		{"non-numeric label", "a,y\n1,yes\n", "y", `row 1 (line 2), column "y": cannot parse "yes"`},
		{"empty cell", "a,y\n,1\n", "y", `row 1 (line 2), column "a": empty cell`},
		{"NaN", "a,y\n1,2\n3,NaN\n", "y", `row 2 (line 3), column "y": "NaN" is not a finite number`},
		{"Inf", "a,y\n-Inf,2\n", "y", `column "a": "-Inf" is not a finite number`},
		{"overflow", "a,y\n1e999,2\n", "y", `"1e999" is not a finite number`},
		{"ragged short", "a,b,y\n1,2,3\n4,5\n", "y", "row 2 (line 3): got 2 fields, want 3"},
		{"ragged long", "a,y\n1,2,3\n", "y", "row 1 (line 2): got 3 fields, want 2"},
		{"bad quote", "a,y\n\"1,2\n", "y", "line"},
		{"CR line endings", "a,y\r1,0\r2,1\r1,1\r", "y", "the lines end with a carriage return (CR) alone"},
		{"CR line endings, no repeated cell", "a,y\r1,2\r", "y", "carriage return (CR) alone"},
	}
	for _, c := range cases {
		_, _, _, _, _, err := ParseTable(strings.NewReader(c.in), c.label)
		if err == nil {
			t.Errorf("%s: no error", c.name)
			continue
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %q does not contain %q", c.name, err, c.want)
		}
	}
}

func TestReadTable(t *testing.T) {
	dir := t.TempDir()
	text := "x1,x2,target\n1,2,3\n4,5,6\n"
	plain := filepath.Join(dir, "t.csv")
	if err := os.WriteFile(plain, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write([]byte(text))
	zw.Close()
	zipped := filepath.Join(dir, "t.data") // gzip recognised by content, not name
	if err := os.WriteFile(zipped, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{plain, zipped} {
		X, n, d, y, features, err := ReadTable(p, "target")
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if n != 2 || d != 2 || !reflect.DeepEqual(X, []float64{1, 2, 4, 5}) || !reflect.DeepEqual(y, []float64{3, 6}) ||
			!reflect.DeepEqual(features, []string{"x1", "x2"}) {
			t.Errorf("%s: got %v %d %d %v %v", p, X, n, d, y, features)
		}
	}
	_, _, _, _, _, err := ReadTable(plain, "nope")
	if err == nil || !strings.Contains(err.Error(), plain) || !strings.Contains(err.Error(), `"nope"`) {
		t.Errorf("missing label: error %v should name the file and the column", err)
	}
	if _, _, _, _, _, err := ReadTable(filepath.Join(dir, "missing.csv"), "y"); err == nil {
		t.Error("missing file: no error")
	}
}
