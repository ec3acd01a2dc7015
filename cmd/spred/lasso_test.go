package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

type lassoRefProblem struct {
	Family    string      `json:"family"`
	N         int         `json:"n"`
	D         int         `json:"d"`
	X         [][]float64 `json:"X"`
	Y         []float64   `json:"y"`
	Solutions []struct {
		Lambda float64   `json:"lambda"`
		Coef   []float64 `json:"coef"`
	} `json:"solutions"`
}

// lassoRefCSV writes a reference problem of lasso/testdata as a
// CSV table (gzipped if zip) with feature columns x1..xd and label y
// between them, and returns the problem and the file's path.
func lassoRefCSV(t *testing.T, name string, zip bool) (*lassoRefProblem, string) {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "..", "lasso", "testdata", name+".json.gz"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var p lassoRefProblem
	if err := json.NewDecoder(zr).Decode(&p); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	mid := p.D / 2 // the label column sits between features
	for j := 0; j < p.D; j++ {
		if j == mid {
			b.WriteString("y,")
		}
		fmt.Fprintf(&b, "x%d", j+1)
		if j < p.D-1 {
			b.WriteByte(',')
		}
	}
	b.WriteByte('\n')
	for i, row := range p.X {
		for j, v := range row {
			if j == mid {
				fmt.Fprintf(&b, "%.17g,", p.Y[i])
			}
			fmt.Fprintf(&b, "%.17g", v)
			if j < p.D-1 {
				b.WriteByte(',')
			}
		}
		b.WriteByte('\n')
	}
	data := []byte(b.String())
	if zip {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		zw.Write(data)
		zw.Close()
		data = buf.Bytes()
	}
	path := filepath.Join(t.TempDir(), name+".csv")
	if zip {
		path += ".gz"
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return &p, path
}

type lassoJSON struct {
	Coef       []float64 `json:"coef"`
	Intercept  *float64  `json:"intercept"`
	NonZero    *int      `json:"nonzero"`
	Objective  *float64  `json:"objective"`
	Iterations *int      `json:"iterations"`
	Converged  *bool     `json:"converged"`
	Features   []string  `json:"features"`
}

func TestLassoCommandMatchesGlmnet(t *testing.T) {
	for _, c := range []struct {
		name string
		zip  bool
		sol  int
	}{{"gaussian_small", false, 1}, {"gaussian_small", true, 3}, {"binomial_small", true, 1}} {
		p, path := lassoRefCSV(t, c.name, c.zip)
		s := p.Solutions[c.sol]
		code, out, errs := runApp(t, "lasso", "--csv", path, "--label", "y", "--family", p.Family,
			"--lambda", fmt.Sprint(s.Lambda), "--intercept=false")
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", c.name, code, errs)
		}
		var res lassoJSON
		if err := json.Unmarshal([]byte(out), &res); err != nil {
			t.Fatalf("%s: bad JSON %q: %v", c.name, out, err)
		}
		if res.Intercept == nil || res.NonZero == nil || res.Objective == nil || res.Iterations == nil || res.Converged == nil {
			t.Fatalf("%s: missing fields in %s", c.name, out)
		}
		if len(res.Coef) != p.D || len(res.Features) != p.D || res.Features[0] != "x1" || res.Features[p.D-1] != fmt.Sprintf("x%d", p.D) {
			t.Fatalf("%s: %d coefficients, features %v", c.name, len(res.Coef), res.Features)
		}
		scale, nz := 1.0, 0
		for _, v := range s.Coef {
			scale = math.Max(scale, math.Abs(v))
		}
		for j, v := range s.Coef {
			if (v != 0) != (res.Coef[j] != 0) || math.Abs(v-res.Coef[j]) > 1e-6*scale {
				t.Errorf("%s: coef %d = %g, glmnet %g", c.name, j, res.Coef[j], v)
			}
			if v != 0 {
				nz++
			}
		}
		if *res.NonZero != nz || *res.Intercept != 0 || !*res.Converged {
			t.Errorf("%s: nonzero %d (want %d), intercept %g, converged %v", c.name, *res.NonZero, nz, *res.Intercept, *res.Converged)
		}
	}
}

func TestLassoCommandIntercept(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "t.csv")
	// y = 10 + 2·a exactly; b is noise-free but useless.
	data := "a,b,target\n0,1,10\n1,0,12\n2,1,14\n3,0,16\n4,1,18\n"
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runApp(t, "lasso", "--csv", path, "--label", "target", "--lambda", "0")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var res lassoJSON
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	if math.Abs(*res.Intercept-10) > 1e-6 || math.Abs(res.Coef[0]-2) > 1e-6 || math.Abs(res.Coef[1]) > 1e-6 {
		t.Errorf("intercept %g, coef %v; want 10, [2 0]", *res.Intercept, res.Coef)
	}
	if len(res.Features) != 2 || res.Features[0] != "a" || res.Features[1] != "b" {
		t.Errorf("features %v", res.Features)
	}
}

// TestLassoCommandBinomialIntercept fits a logistic model with an intercept.
// The bad-input cases of lasso are in TestBadInput.
func TestLassoCommandBinomialIntercept(t *testing.T) {
	good := filepath.Join(t.TempDir(), "good.csv")
	if err := os.WriteFile(good, []byte("a,y\n1,0\n2,1\n3,1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runApp(t, "lasso", "--csv", good, "--lambda", "0.01", "--family", "binomial")
	if code != 0 || !strings.Contains(out, `"coef"`) {
		t.Errorf("binomial with intercept: exit %d, %s %s", code, out, errs)
	}
}
