package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"unicode/utf8"

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
	if graph.ConvError != nil {
		fmt.Fprintf(stderr, "spred: SPRED_CONV=%s: %s\n", os.Getenv("SPRED_CONV"), oneLine(graph.ConvError.Error()))
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

// maxErrorLine bounds the error line spred prints, whatever a message
// quotes (a shape or a list from a hostile file is capped where the message
// is made; this is the last guard).
const maxErrorLine = 2000

// oneLine is the first line of s, cut to maxErrorLine bytes (at a rune
// boundary) with a note of its full length.
func oneLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if len(s) > maxErrorLine {
		n := maxErrorLine
		for n > 0 && !utf8.RuneStart(s[n]) {
			n--
		}
		s = fmt.Sprintf("%s… (%d bytes in all)", s[:n], len(s))
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
			recipeCommand(),
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
		if !savesOnInterrupt[cmd.Name] {
			stopOnSignal(cmd)
		}
		if recipeTakers[cmd.Name] {
			withRecipe(cmd)
		}
	}
	return app
}

// savesOnInterrupt are the commands that watch the context themselves: on
// SIGINT or SIGTERM they stop after the current step and save a checkpoint
// to resume from, which returning at once would cut short.
var savesOnInterrupt = map[string]bool{"train": true, "compress": true, "sweep": true}

// stopOnSignal makes cmd and its subcommands return as soon as the
// context is cancelled (SIGINT or SIGTERM), whatever their action is
// doing: reading a model file, encoding one, evaluating it. The action
// goes on in the background until the process exits a moment later; every
// output is written atomically (a temporary file renamed over it), so none
// is left half-written, and the next run removes the temporary file.
func stopOnSignal(cmd *cli.Command) {
	for _, sub := range cmd.Subcommands {
		stopOnSignal(sub)
	}
	action := cmd.Action
	if action == nil {
		return
	}
	cmd.Action = func(c *cli.Context) error {
		if c.Context.Err() != nil {
			return errors.Errorf("%s: interrupted", c.Command.Name)
		}
		done := make(chan error, 1)
		go func() {
			defer func() {
				if r := recover(); r != nil {
					done <- errors.Errorf("internal error: %v", oneLine(fmt.Sprint(r)))
				}
			}()
			done <- action(c)
		}()
		select {
		case err := <-done:
			return err
		case <-c.Context.Done():
			select {
			case err := <-done: // finished as the signal came
				return err
			default:
				return errors.Errorf("%s: interrupted", c.Command.Name)
			}
		}
	}
}

// recipeTakers are the commands that read --recipe.
var recipeTakers = map[string]bool{"compress": true, "train": true, "sweep": true, "select": true}

// recipeCommands are fresh instances of the commands that take a recipe,
// for spred recipe to list their settings.
func recipeCommands() []*cli.Command {
	return []*cli.Command{compressCommand(), trainCommand(), sweepCommand(), selectCommand()}
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
