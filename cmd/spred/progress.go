package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/spred-go/spred/train"
)

// progress reports training on stderr: a line per epoch unless quiet, and a
// bar updated during the epoch only when stderr is a terminal.
type progress struct {
	w     io.Writer
	quiet bool
	tty   bool
	last  time.Time
	label string
}

func newProgress(w io.Writer, quiet bool, label string) *progress {
	tty := false
	if f, ok := w.(*os.File); ok {
		tty = term.IsTerminal(int(f.Fd()))
	}
	return &progress{w: w, quiet: quiet, tty: tty, label: label}
}

// step draws the bar (at most 10 times a second).
func (p *progress) step(epoch, epochs, step, steps int) {
	if p.quiet || !p.tty {
		return
	}
	if time.Since(p.last) < 100*time.Millisecond && step != steps {
		return
	}
	p.last = time.Now()
	const width = 30
	done := width * step / steps
	fmt.Fprintf(p.w, "\r%s epoch %d/%d [%s%s] %d/%d", p.label, epoch, epochs,
		strings.Repeat("=", done), strings.Repeat(" ", width-done), step, steps)
}

// Record implements train.Recorder.
func (p *progress) Record(s *train.EpochStats) {
	if p.quiet {
		return
	}
	if p.tty {
		fmt.Fprint(p.w, "\r\033[K")
	}
	line := fmt.Sprintf("%s epoch %d/%d  lr %.4g  train loss %.4f acc %.2f%%", p.label, s.Epoch, s.Epochs, s.LR, s.TrainLoss, 100*s.TrainAcc)
	if s.TestAcc > 0 || s.TestLoss > 0 {
		line += fmt.Sprintf("  test loss %.4f acc %.2f%%", s.TestLoss, 100*s.TestAcc)
	}
	for _, k := range sortedKeys(s.Extra) {
		line += fmt.Sprintf("  %s %.4g", k, s.Extra[k])
	}
	line += fmt.Sprintf("  %.1fs", s.Seconds)
	fmt.Fprintln(p.w, line)
}

func (p *progress) logf(format string, args ...interface{}) {
	if !p.quiet {
		fmt.Fprintf(p.w, format+"\n", args...)
	}
}
