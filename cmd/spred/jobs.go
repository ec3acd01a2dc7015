package main

// The command lines of a sweep's points, for --list-jobs: one shell line
// per point, or a Slurm job array.

import (
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/spred-go/spred/compress"
	"github.com/spred-go/spred/sweep"
)

// jobArgs is the `spred compress` command line of a point: with the files
// in dir when files is true (for --list-jobs), else only the flags that
// change the result (the provenance recorded in the model file).
func jobArgs(c *cli.Context, p sweep.Point, dir string, files bool) []string {
	args := []string{"spred", "compress"}
	add := func(name, value string) { args = append(args, "--"+name+"="+shellQuote(value)) }
	if files {
		add("model", c.String("model"))
	}
	if strings.Contains(c.String("method"), ",") {
		add("method", p.Method)
	}
	if p.Seeded {
		add("seed", strconv.FormatInt(p.Seed, 10))
	}
	switch {
	case p.TargetRatio != 0:
		add("target-ratio", strconv.FormatFloat(p.TargetRatio, 'g', -1, 64))
		if p.Held {
			add("lambda", strconv.FormatFloat(p.Lambda, 'g', -1, 64))
		}
		if m, err := compress.Lookup(p.Method); err != nil || m.Info().Threshold {
			add("threshold", strconv.FormatFloat(p.Threshold, 'g', -1, 64))
		}
	case p.Target != 0:
		add("target-sparsity", strconv.FormatFloat(p.Target, 'g', -1, 64))
	default:
		add("lambda", strconv.FormatFloat(p.Lambda, 'g', -1, 64))
		add("threshold", strconv.FormatFloat(p.Threshold, 'g', -1, 64))
	}
	for _, f := range c.Command.Flags {
		name := f.Names()[0]
		if sweepOnly[name] || name == "threshold" || name == "model" || !c.IsSet(name) {
			continue
		}
		if name == "method" && strings.Contains(c.String("method"), ",") {
			continue // the point's own method is given above
		}
		if !files && notProvenance[name] {
			continue
		}
		add(name, fmt.Sprint(c.Value(name)))
	}
	if files {
		base := filepath.Join(dir, p.ID())
		add("out", base+".safetensors")
		add("report", base+".json")
		add("checkpoint", base+".ckpt")
	}
	return args
}

// shellQuote quotes s for a POSIX shell when it needs it.
// writeSlurm writes a Slurm job-array script that runs jobs[i] as task i
// (sbatch --array=0-N-1), each task's output in DIR/slurm-JOB_TASK.out;
// after the array, `spred sweep merge DIR` builds the tables. Every job
// writes only its own point's files, so the tasks may run at once.
func writeSlurm(w io.Writer, dir string, jobs []string) error {
	var b strings.Builder
	b.WriteString("#!/bin/bash\n")
	b.WriteString("# A Slurm job array of spred sweep points: sbatch this file, then run\n")
	fmt.Fprintf(&b, "# spred sweep merge %s\n", shellQuote(dir))
	b.WriteString("#SBATCH --job-name=spred-sweep\n")
	if len(jobs) > 0 {
		fmt.Fprintf(&b, "#SBATCH --array=0-%d\n", len(jobs)-1)
	}
	fmt.Fprintf(&b, "#SBATCH --output=%s\n", filepath.Join(dir, "slurm-%A_%a.out"))
	b.WriteString("set -euo pipefail\n")
	b.WriteString("case \"${SLURM_ARRAY_TASK_ID:?run this script with sbatch, or set SLURM_ARRAY_TASK_ID}\" in\n")
	for i, j := range jobs {
		fmt.Fprintf(&b, "%d) %s ;;\n", i, j)
	}
	b.WriteString("*) echo \"no point for task $SLURM_ARRAY_TASK_ID\" >&2; exit 2 ;;\n")
	b.WriteString("esac\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-+=.,:/@%") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
