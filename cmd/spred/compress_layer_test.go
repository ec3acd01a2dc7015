package main

import (
	"reflect"
	"testing"
)

// TestParseLayerLambda: --layer-lambda takes at most one rule and NAME=F
// items; anything else is a usage error.
func TestParseLayerLambda(t *testing.T) {
	for _, tc := range []struct {
		in    string
		rule  string
		named map[string]float64
	}{
		{"", "", nil},
		{"uniform", "", nil},
		{"size", "size", nil},
		{"size, fc3/W=0.05", "size", map[string]float64{"fc3/W": 0.05}},
		{"fc2/W=0.5,fc3/W=0", "", map[string]float64{"fc2/W": 0.5, "fc3/W": 0}},
	} {
		rule, named, err := parseLayerLambda(tc.in)
		if err != nil || rule != tc.rule || !reflect.DeepEqual(named, tc.named) {
			t.Errorf("%q: %q %v %v, want %q %v", tc.in, rule, named, err, tc.rule, tc.named)
		}
	}
	for _, bad := range []string{"sqrt", "size,uniform", "fc2/W=-1", "fc2/W=x", "=0.5", "fc2/W=NaN", "fc2/W=1,fc2/W=2"} {
		if _, _, err := parseLayerLambda(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
