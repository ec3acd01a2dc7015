package main

import (
	"io"
	"testing"

	"github.com/urfave/cli/v2"
)

// TestDecimalFlags: integer flags read decimal text only (Go's flag package
// would read 010 as 8 and 0x10 as 16), keep their defaults, aliases and
// IsSet.
func TestDecimalFlags(t *testing.T) {
	run := func(args ...string) (n int, seed int64, set bool, err error) {
		cmd := &cli.Command{Name: "c", Flags: []cli.Flag{
			&cli.IntFlag{Name: "n", Aliases: []string{"k"}, Value: 7},
			&cli.Int64Flag{Name: "seed", Value: 1},
		}, Action: func(c *cli.Context) error {
			n, seed, set = c.Int("n"), c.Int64("seed"), c.IsSet("n")
			return nil
		}}
		decimalFlags(cmd.Flags)
		app := &cli.App{Commands: []*cli.Command{cmd}, Writer: io.Discard, ErrWriter: io.Discard, ExitErrHandler: func(*cli.Context, error) {}}
		err = app.Run(append([]string{"spred", "c"}, args...))
		return
	}
	if n, seed, set, err := run(); err != nil || n != 7 || seed != 1 || set {
		t.Errorf("defaults: %d %d %v %v", n, seed, set, err)
	}
	if n, seed, set, err := run("--n", "010", "--seed", "-0012"); err != nil || n != 10 || seed != -12 || !set {
		t.Errorf("010 and -0012: %d %d %v %v", n, seed, set, err)
	}
	if n, _, _, err := run("-k", "5"); err != nil || n != 5 {
		t.Errorf("alias: %d %v", n, err)
	}
	for _, bad := range []string{"0x10", "0b1", "0o7", "1e3", "1_000", " 5"} {
		if _, _, _, err := run("--n", bad); err == nil {
			t.Errorf("--n %q accepted", bad)
		}
	}
}
