package main

import (
	"context"
	"math/rand"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/spred-go/spred/compress"
	"github.com/spred-go/spred/models"
)

// cliMethod is a method a library user registers: the command line lists
// it and accepts it by name.
type cliMethod struct{}

func (cliMethod) Name() string { return "test-cli" }
func (cliMethod) Info() compress.MethodInfo {
	return compress.MethodInfo{Summary: "a method registered by a test", Title: "test", Phase: "test"}
}
func (cliMethod) Defaults(c compress.Config) compress.Config { return c }
func (cliMethod) DefaultConfig(string) compress.Config {
	c := compress.DefaultConfig()
	c.Method, c.LR = "test-cli", 0.125
	return c
}
func (cliMethod) Validate(compress.Config) error               { return nil }
func (cliMethod) Settings(c compress.Config) compress.Settings { return compress.SharedSettings(c) }
func (cliMethod) Describe(compress.Config) string              { return "test settings" }
func (cliMethod) Train(context.Context, *compress.Session) (*compress.Mask, error) {
	return nil, errors.New("test-cli trains nothing")
}

func init() { compress.Register(cliMethod{}) }

// TestRegisteredMethodInCLI: --method's help, its error and spred recipe
// name the methods of the registry, one registered here included.
func TestRegisteredMethodInCLI(t *testing.T) {
	m, err := models.New(models.Spec{Name: "tiny", Input: []int{8}, Loss: models.LossSoftmaxCrossEntropy,
		Layers: []models.Layer{{Kind: models.Dense, Name: "fc", Units: 3}}}, tensor.Float32, rand.New(rand.NewSource(1)))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "tiny.safetensors")
	if err := models.WriteFile(path, m); err != nil {
		t.Fatal(err)
	}
	const unknown = `unknown method "bogus" (registered: l1, magnitude, spred, test-cli)`
	for _, args := range [][]string{
		{"compress", "--model", path, "--method", "bogus"},
		{"sweep", "--model", path, "--dir", filepath.Join(dir, "s"), "--method", "bogus", "--lambdas", "0.1"},
		{"sweep", "--model", path, "--dir", filepath.Join(dir, "s"), "--method", "spred,bogus", "--target-ratios", "4"},
		{"recipe", "--method", "bogus"},
	} {
		code, _, errs := runApp(t, args...)
		if code != 2 || !strings.Contains(errs, unknown) {
			t.Errorf("spred %s: exit %d, %q; want exit 2 with %q", strings.Join(args, " "), code, errs, unknown)
		}
	}
	if _, out, _ := runApp(t, "compress", "--help"); !strings.Contains(out, "test-cli (a method registered by a test)") {
		t.Errorf("compress --help does not list test-cli:\n%s", out)
	}
	code, out, errs := runApp(t, "recipe", "--method", "test-cli")
	if code != 0 || !strings.Contains(out, "for --method test-cli") || !strings.Contains(out, "\n#lr: 0.125\n") {
		t.Errorf("recipe --method test-cli: exit %d %s\n%s", code, errs, out)
	}
	if _, out, _ := runApp(t, "recipe", "--help"); !strings.Contains(out, "l1, magnitude, spred, test-cli") {
		t.Errorf("recipe --help does not list test-cli:\n%s", out)
	}
}
