package models_test

import (
	"errors"
	"math/big"
	"reflect"
	"strings"
	"testing"

	"github.com/spred-go/spred/models"
)

// validSpecs and malformedSpecs seed FuzzParseSpec next to the zoo's
// specs; the same inputs are in testdata/fuzz/FuzzParseSpec.
var validSpecs = []string{
	`{"name":"tiny","input":[3],"layers":[{"type":"dense","name":"fc","units":2}],"loss":"softmax-cross-entropy"}`,
	`{"name":"conv","input":[2,7,7],"layers":[{"type":"conv2d","name":"c","filters":4,"kernel":3,"stride":2,"padding":1},{"type":"relu"},{"type":"maxpool2d","kernel":3,"stride":1},{"type":"dropout","rate":0.25},{"type":"flatten"},{"type":"dense","name":"fc","units":3}],"loss":"softmax-cross-entropy"}`,
	// MaxSize−1 parameters: the largest spec of this shape.
	`{"name":"limit","input":[1073741822],"layers":[{"type":"dense","name":"fc","units":2}],"loss":"softmax-cross-entropy"}`,
}

// malformedSpecs must all be refused.
var malformedSpecs = []string{
	``,
	`null`,
	`{}`,
	`[]`,
	`{"name":"x","input":[784],"layers":[{"type":"dense","name":"fc","units":10}],"loss":"softmax-cross-entropy"`,
	`{"name":"x","input":[784],"layers":[{"type":"dense","name":"fc","units":10}],"loss":"softmax-cross-entropy"} {}`,
	`{"name":"x","input":[784],"layers":[{"type":"dense","name":"fc","units":10,"colour":"red"}],"loss":"softmax-cross-entropy"}`,
	`{"name":"x","input":[784],"layers":[{"type":"dense","name":"fc","units":"10"}],"loss":"softmax-cross-entropy"}`,
	`{"name":"x","input":[784],"layers":[{"type":"dense","name":"fc","units":1e1}],"loss":"softmax-cross-entropy"}`,
	`{"name":"x","input":[-784],"layers":[{"type":"dense","name":"fc","units":10}],"loss":"softmax-cross-entropy"}`,
	`{"name":"x","input":[784],"layers":[{"type":"dense","name":"fc","units":10}],"loss":"mse"}`,
	`{"name":"x","input":[784],"layers":[{"type":"dense","name":"a","units":10},{"type":"dense","name":"a","units":10}],"loss":"softmax-cross-entropy"}`,
	`{"name":"x","input":[1,28,28],"layers":[{"type":"conv2d","name":"c","filters":4,"kernel":-3},{"type":"flatten"},{"type":"dense","name":"fc","units":10}],"loss":"softmax-cross-entropy"}`,
	`{"name":"x","input":[1,28,28],"layers":[{"type":"conv2d","name":"c","filters":4,"kernel":3,"padding":4611686018427387904},{"type":"flatten"},{"type":"dense","name":"fc","units":10}],"loss":"softmax-cross-entropy"}`,
	`{"name":"x","input":[1,28,28],"layers":[{"type":"maxpool2d","kernel":2,"stride":9223372036854775807},{"type":"flatten"},{"type":"dense","name":"fc","units":10}],"loss":"softmax-cross-entropy"}`,
	`{"name":"x","input":[1,28,28],"layers":[{"type":"dropout","rate":1},{"type":"flatten"},{"type":"dense","name":"fc","units":10}],"loss":"softmax-cross-entropy"}`,
	// Valid JSON whose sizes overflow an int64 or could never be allocated.
	`{"name":"x","input":[784],"layers":[{"type":"dense","name":"fc","units":1099511627776}],"loss":"softmax-cross-entropy"}`,
	`{"name":"x","input":[65536,65536,65536],"layers":[{"type":"flatten"},{"type":"dense","name":"fc","units":10}],"loss":"softmax-cross-entropy"}`,
	`{"name":"x","input":[4294967296,4294967296,4],"layers":[{"type":"flatten"},{"type":"dense","name":"fc","units":10}],"loss":"softmax-cross-entropy"}`,
	`{"name":"x","input":[1,28,28],"layers":[{"type":"conv2d","name":"c","filters":1048576,"kernel":3,"padding":1048576},{"type":"flatten"},{"type":"dense","name":"fc","units":10}],"loss":"softmax-cross-entropy"}`,
	`{"name":"x","input":[1024],"layers":[{"type":"dense","name":"a","units":1048576},{"type":"dense","name":"b","units":1048576},{"type":"dense","name":"c","units":10}],"loss":"softmax-cross-entropy"}`,
}

func FuzzParseSpec(f *testing.F) {
	for _, e := range models.Zoo() {
		spec, err := models.Lookup(e.Name)
		if err != nil {
			f.Fatal(err)
		}
		b, err := models.MarshalSpec(spec)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range append(validSpecs, malformedSpecs...) {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		checkParseSpec(t, b)
	})
}

// checkParseSpec checks the properties of ParseSpec on b and returns
// whether b was accepted.
func checkParseSpec(t *testing.T, b []byte) bool {
	t.Helper()
	s, err := models.ParseSpec(b)
	if err != nil {
		if !errors.Is(err, models.ErrSpec) {
			t.Fatalf("error does not match ErrSpec: %v", err)
		}
		if strings.Contains(err.Error(), "\n") {
			t.Fatalf("message has several lines: %q", err)
		}
		return false
	}
	if err := s.Validate(); err != nil {
		t.Fatalf("accepted spec fails Validate: %v", err)
	}
	again, err := models.MarshalSpec(s)
	if err != nil {
		t.Fatalf("accepted spec does not marshal: %v", err)
	}
	back, err := models.ParseSpec(again)
	if err != nil {
		t.Fatalf("marshalled spec %s is refused: %v", again, err)
	}
	if !reflect.DeepEqual(back, s) {
		t.Fatalf("round trip changed the spec:\n%+v\n%+v", s, back)
	}
	ps, err := s.Params()
	if err != nil {
		t.Fatalf("accepted spec: Params: %v", err)
	}
	// Count in big integers, so an overflow of the int arithmetic shows.
	total := new(big.Int)
	for _, p := range ps {
		n := big.NewInt(1)
		for _, d := range p.Shape {
			if d <= 0 {
				t.Fatalf("parameter %q has shape %v", p.Name, p.Shape)
			}
			n.Mul(n, big.NewInt(int64(d)))
		}
		if n.Cmp(big.NewInt(models.MaxSize)) > 0 {
			t.Fatalf("parameter %q of shape %v has more than MaxSize values", p.Name, p.Shape)
		}
		total.Add(total, n)
	}
	if total.Cmp(big.NewInt(models.MaxSize)) > 0 {
		t.Fatalf("%v parameters, more than MaxSize", total)
	}
	if in := s.InputSize(); in <= 0 || in > models.MaxSize {
		t.Fatalf("input size %d", in)
	}
	if c := s.Classes(); c < 2 {
		t.Fatalf("%d classes", c)
	}
	return true
}

// TestParseSpecRejectsAbsurdSizes: a spec is untrusted input (it comes from
// a model file), so sizes that overflow or could never be allocated are
// refused, and specs up to the limit are accepted.
func TestParseSpecRejectsAbsurdSizes(t *testing.T) {
	for _, s := range malformedSpecs {
		if checkParseSpec(t, []byte(s)) {
			t.Errorf("accepted %s", s)
		}
	}
	for _, c := range []struct{ spec, want string }{
		{`{"name":"x","input":[784],"layers":[{"type":"dense","name":"fc","units":1099511627776}],"loss":"softmax-cross-entropy"}`, "units must be in [1, 2147483647]"},
		{`{"name":"x","input":[65536,65536,65536],"layers":[{"type":"flatten"},{"type":"dense","name":"fc","units":10}],"loss":"softmax-cross-entropy"}`, "more than 2147483647 values per sample"},
		{`{"name":"x","input":[2147483648],"layers":[{"type":"dense","name":"fc","units":10}],"loss":"softmax-cross-entropy"}`, "more than 2147483647 values per sample"},
		{`{"name":"x","input":[65536],"layers":[{"type":"dense","name":"fc","units":65536}],"loss":"softmax-cross-entropy"}`, "weight [65536 65536] has more than 2147483647 values"},
		{`{"name":"x","input":[1,28,28],"layers":[{"type":"conv2d","name":"c","filters":4,"kernel":3,"padding":4611686018427387904},{"type":"flatten"},{"type":"dense","name":"fc","units":10}],"loss":"softmax-cross-entropy"}`, "out of range"},
		{`{"name":"x","input":[1,28,28],"layers":[{"type":"conv2d","name":"c","filters":1048576,"kernel":3,"padding":1048576},{"type":"flatten"},{"type":"dense","name":"fc","units":10}],"loss":"softmax-cross-entropy"}`, "values per sample"},
		{`{"name":"x","input":[1024],"layers":[{"type":"dense","name":"a","units":1048576},{"type":"dense","name":"b","units":1048576},{"type":"dense","name":"c","units":10}],"loss":"softmax-cross-entropy"}`, "weight [1048576 1048576]"},
		{`{"name":"x","input":[1024],"layers":[{"type":"dense","name":"a","units":1048575},{"type":"dense","name":"b","units":1024},{"type":"dense","name":"c","units":10}],"loss":"softmax-cross-entropy"}`, "more than 2147483647 parameters"},
	} {
		_, err := models.ParseSpec([]byte(c.spec))
		if !errors.Is(err, models.ErrSpec) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want an ErrSpec mentioning %q", c.spec, err, c.want)
		}
	}
	// At the limit: a weight of exactly MaxSize values is a valid spec.
	limit := `{"name":"x","input":[2147483647],"layers":[{"type":"dense","name":"fc","units":1}],"loss":"softmax-cross-entropy"}`
	if _, err := models.ParseSpec([]byte(limit)); err == nil || !strings.Contains(err.Error(), "parameters") {
		t.Errorf("weight of MaxSize values plus a bias: %v, want too many parameters", err)
	}
	for _, s := range validSpecs {
		if !checkParseSpec(t, []byte(s)) {
			t.Errorf("refused %s", s)
		}
	}
}
