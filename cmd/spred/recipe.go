package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/pkg/errors"
	"github.com/urfave/cli/v2"
	yaml "sigs.k8s.io/yaml/goyaml.v3"

	"github.com/spred-go/spred"
	"github.com/spred-go/spred/compress"
	"github.com/spred-go/spred/models"
)

// A recipe is a command's settings in a file: its flag names as keys (YAML
// or JSON), optionally "command" naming the command. Reports and model
// files embed the recipe of the run that made them, so that --recipe on one
// of them reruns that run.

// recipeSkip are the flags a recipe never holds: where the outputs go, how
// the run reports progress and whether it resumes.
var recipeSkip = map[string]bool{"recipe": true, "out": true, "report": true, "markdown": true, "checkpoint": true,
	"resume": true, "force": true, "quiet": true, "plot": true, "help": true, "list-jobs": true, "format": true}

// maxRecipeBytes bounds a recipe file (a report with its history included).
const maxRecipeBytes = 16 << 20

func recipeFlag() cli.Flag {
	return &cli.StringFlag{Name: "recipe", Usage: "read the settings from FILE: YAML or JSON with the flag names as keys (spred recipe prints one), or a report or model file this tool wrote, to rerun that run; flags given on the command line override it; unknown keys are refused"}
}

// withRecipe adds --recipe to cmd and applies it before the command runs.
func withRecipe(cmd *cli.Command) *cli.Command {
	cmd.Flags = append(cmd.Flags, recipeFlag())
	before := cmd.Before
	cmd.Before = func(c *cli.Context) error {
		if err := applyRecipe(c); err != nil {
			return err
		}
		if before != nil {
			return before(c)
		}
		return nil
	}
	return cmd
}

// applyRecipe sets every flag the recipe names that the command line did
// not set.
func applyRecipe(c *cli.Context) error {
	path := c.String("recipe")
	if path == "" {
		return nil
	}
	rec, err := readRecipe(path)
	if err != nil {
		return err
	}
	known := map[string]bool{}
	for _, f := range c.Command.Flags {
		for _, n := range f.Names() {
			known[n] = true
		}
	}
	keys := make([]string, 0, len(rec))
	for k := range rec {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := rec[k]
		if k == "command" {
			if s, _ := v.(string); s != c.Command.Name {
				return usagef("--recipe %s is a recipe of spred %v, not spred %s", path, v, c.Command.Name)
			}
			continue
		}
		if !known[k] || recipeSkip[k] {
			return usagef("--recipe %s: unknown key %q (not a setting of spred %s)", path, k, c.Command.Name)
		}
		if c.IsSet(k) {
			continue // the command line wins
		}
		s, err := recipeValue(v)
		if err != nil {
			return usagef("--recipe %s: key %q: %v", path, k, err)
		}
		if err := c.Set(k, s); err != nil {
			return usagef("--recipe %s: key %q: %v", path, k, err)
		}
	}
	return nil
}

// recipeValue is v as the flag's command-line text.
func recipeValue(v any) (string, error) {
	switch v := v.(type) {
	case string:
		return v, nil
	case bool:
		return strconv.FormatBool(v), nil
	case float64:
		return strconv.FormatFloat(v, 'g', -1, 64), nil
	case []any:
		parts := make([]string, len(v))
		for i, e := range v {
			s, err := recipeValue(e)
			if err != nil {
				return "", err
			}
			parts[i] = s
		}
		return strings.Join(parts, ","), nil
	case nil:
		return "", errors.New("no value")
	}
	return "", errors.Errorf("a %T is not a setting", v)
}

// readRecipe reads a recipe file, the recipe a report embeds (its
// "recipe"), or the one a model file's provenance records.
func readRecipe(path string) (map[string]any, error) {
	if strings.HasSuffix(path, ".safetensors") {
		m, err := models.ReadFile(path)
		if err != nil {
			return nil, errors.Wrapf(err, "--recipe %s", path)
		}
		s, ok := m.Meta.Extra["recipe"]
		if !ok {
			return nil, errors.Errorf("--recipe %s: the model file records no recipe (written by an older spred, or not by train or compress)", path)
		}
		var rec map[string]any
		if err := json.Unmarshal([]byte(s), &rec); err != nil {
			return nil, errors.Wrapf(err, "--recipe %s: its recorded recipe", path)
		}
		return rec, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, errors.Wrap(err, "--recipe")
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxRecipeBytes+1))
	if err != nil {
		return nil, errors.Wrapf(err, "--recipe %s", path)
	}
	if len(b) > maxRecipeBytes {
		return nil, errors.Errorf("--recipe %s: larger than %d bytes", path, maxRecipeBytes)
	}
	rec, err := parseRecipe(b)
	if err != nil {
		return nil, errors.Errorf("--recipe %s: %s", path, oneLine(err.Error()))
	}
	if r, ok := rec["recipe"].(map[string]any); ok && rec["settings"] != nil {
		return r, nil // a report: the run's own recipe
	}
	return rec, nil
}

// parseRecipe reads a YAML (or JSON) map. Scalars keep their text as
// written, so that the flags parse them as they parse the command line
// (010 is refused there, not read as octal); lists become comma-separated
// text; nested maps are kept as maps (a report's "recipe").
func parseRecipe(b []byte) (map[string]any, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, errors.Errorf("not YAML or JSON: %v", err)
	}
	if len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, errors.New("not a YAML or JSON map of settings")
	}
	v, err := nodeValue(doc.Content[0], 0)
	if err != nil {
		return nil, err
	}
	return v.(map[string]any), nil
}

func nodeValue(n *yaml.Node, depth int) (any, error) {
	if depth > 8 {
		return nil, errors.New("nested too deep")
	}
	switch n.Kind {
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return nil, nil
		}
		return n.Value, nil
	case yaml.SequenceNode:
		parts := make([]any, len(n.Content))
		for i, e := range n.Content {
			v, err := nodeValue(e, depth+1)
			if err != nil {
				return nil, err
			}
			parts[i] = v
		}
		return parts, nil
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i].Value
			if _, dup := m[k]; dup {
				return nil, errors.Errorf("key %q given twice", k)
			}
			v, err := nodeValue(n.Content[i+1], depth+1)
			if err != nil {
				return nil, err
			}
			m[k] = v
		}
		return m, nil
	case yaml.AliasNode:
		return nil, errors.New("YAML aliases are not read")
	}
	return nil, errors.Errorf("unexpected YAML node")
}

// recipeOf is the recipe of the running command: every flag set on its
// command line or by its recipe, except recipeSkip; with paths, also the
// input model and data folder (reports keep them; model files do not, so
// that a file does not depend on where it was made).
func recipeOf(c *cli.Context, paths bool) map[string]any {
	rec := map[string]any{"command": c.Command.Name}
	for _, f := range c.Command.Flags {
		name := f.Names()[0]
		if recipeSkip[name] || !c.IsSet(name) || (!paths && notProvenance[name]) {
			continue
		}
		if !paths && name == "model" && c.Command.Name != "train" {
			continue
		}
		rec[name] = c.Value(name)
	}
	return rec
}

func recipeJSON(rec map[string]any) string {
	b, _ := json.Marshal(rec) // flag values: strings, numbers, bools
	return string(b)
}

// recipeCommand prints a command's settings and their defaults as a
// commented YAML recipe to start from.
func recipeCommand() *cli.Command {
	return &cli.Command{
		Name:  "recipe",
		Usage: "print the settings of a command with their defaults as a commented YAML recipe (for --recipe)",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "command", Value: "compress", Usage: "the command: compress, train, sweep or select"},
			&cli.StringFlag{Name: "method", Value: compress.MethodSpred, Usage: "compress: the method whose defaults to print (" + strings.Join(compress.MethodNames(), ", ") + ")"},
		},
		Action: func(c *cli.Context) error {
			var cmd *cli.Command
			for _, k := range recipeCommands() {
				if k.Name == c.String("command") {
					cmd = k
				}
			}
			if cmd == nil {
				return usagef("recipe: --command must be compress, train, sweep or select, got %q", c.String("command"))
			}
			method := c.String("method")
			if _, err := compress.Lookup(method); err != nil {
				return usagef("recipe: --method: %v", err)
			}
			w := c.App.Writer
			fmt.Fprintf(w, "# spred %s recipe: the defaults of %s", cmd.Name, spred.Tool)
			if cmd.Name == "compress" {
				fmt.Fprintf(w, " for --method %s", method)
			}
			fmt.Fprintf(w, ".\n# Uncomment and change what you need, then: spred %s --recipe FILE\n# (flags on the command line override the file).\ncommand: %s\n", cmd.Name, cmd.Name)
			for _, f := range cmd.Flags {
				name := f.Names()[0]
				if recipeSkip[name] {
					continue
				}
				d, ok := f.(cli.DocGenerationFlag)
				if !ok {
					continue
				}
				usage := strings.ReplaceAll(d.GetUsage(), "\n", " ")
				if len(usage) > 200 {
					usage = usage[:200] + "…"
				}
				fmt.Fprintf(w, "\n# %s\n", usage)
				val := d.GetValue()
				if cmd.Name == "compress" {
					def := compress.DefaultConfigFor(method, "")
					switch name {
					case "method":
						val = method
					case "lr":
						val = strconv.FormatFloat(def.LR, 'g', -1, 64)
					}
				}
				// Every setting is commented out: a recipe sets only what
				// it names, so that the others keep their defaults (some
				// depend on the method) and settings that exclude each
				// other are not both set.
				if val == "" {
					fmt.Fprintf(w, "#%s: \n", name)
					continue
				}
				fmt.Fprintf(w, "#%s: %s\n", name, yamlScalar(val))
			}
			return nil
		},
	}
}

// yamlScalar quotes s when YAML would read it as something else.
func yamlScalar(s string) string {
	if _, err := strconv.ParseFloat(s, 64); err == nil {
		return s
	}
	if s == "true" || s == "false" {
		return s
	}
	b, _ := json.Marshal(strings.Trim(s, `"`))
	return string(b)
}
