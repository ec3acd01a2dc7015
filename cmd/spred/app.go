package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/pkg/errors"
	"github.com/urfave/cli/v2"

	"github.com/spred-go/spred"
	"github.com/spred-go/spred/graph"
)

// Exit codes.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

// usageError marks a bad command line: exit code 2.
type usageError struct{ err error }

func (u usageError) Error() string { return u.err.Error() }

func usagef(format string, args ...interface{}) error {
	return usageError{fmt.Errorf(format, args...)}
}

// run executes the command line args (args[0] is the program name) and
// returns the exit code. Nothing it does can panic through to the caller.
func run(args []string, stdout, stderr io.Writer) (code int) {
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(stderr, "spred: internal error: %v\n", oneLine(fmt.Sprint(r)))
			code = exitFailure
		}
	}()
	if graph.BLASError != nil {
		fmt.Fprintf(stderr, "spred: SPRED_BLAS=%s: %s\n", os.Getenv("SPRED_BLAS"), oneLine(graph.BLASError.Error()))
		return exitFailure
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	app := newApp(stdout, stderr)
	err := app.RunContext(ctx, args)
	if err == nil {
		return exitOK
	}
	var u usageError
	if errors.As(err, &u) {
		fmt.Fprintf(stderr, "spred: %s (see --help)\n", oneLine(err.Error()))
		return exitUsage
	}
	fmt.Fprintf(stderr, "spred: %s\n", oneLine(err.Error()))
	return exitFailure
}

func oneLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}

func newApp(stdout, stderr io.Writer) *cli.App {
	cli.VersionPrinter = func(c *cli.Context) { printVersion(c.App.Writer) }
	onUsage := func(c *cli.Context, err error, isSubcommand bool) error { return usageError{err} }
	app := &cli.App{
		Name:    "spred",
		Usage:   "make neural networks sparse with spred (w = u⊙v, weight decay on u and v = L1 on w)",
		Version: spred.Version,
		Writer:  stdout, ErrWriter: stderr,
		HideHelpCommand: true,
		OnUsageError:    onUsage,
		ExitErrHandler:  func(*cli.Context, error) {},
		CommandNotFound: func(c *cli.Context, name string) {},
		Commands: []*cli.Command{
			modelsCommand(),
			trainCommand(),
			withLogits(evalCommand()),
			predictCommand(),
			inspectCommand(),
			compressCommand(),
			lassoCommand(),
			sweepCommand(),
			importCommand(),
			exportCommand(),
			sensitivityCommand(),
			selectCommand(),
			versionCommand(),
		},
		Action: func(c *cli.Context) error {
			if c.Args().Len() > 0 {
				return usagef("unknown command %q", c.Args().First())
			}
			return cli.ShowAppHelp(c)
		},
	}
	for _, cmd := range app.Commands {
		decimalFlags(cmd.Flags)
		cmd.OnUsageError = onUsage
		if cmd.Before == nil {
			cmd.Before = noExtraArgs(cmd)
		}
	}
	return app
}

// noExtraArgs rejects positional arguments for commands that take none,
// which usually means a mistyped flag.
func noExtraArgs(cmd *cli.Command) cli.BeforeFunc {
	return func(c *cli.Context) error {
		if cmd.ArgsUsage == "" && c.Args().Len() > 0 {
			return usagef("%s: unexpected argument %q", cmd.Name, c.Args().First())
		}
		return nil
	}
}
