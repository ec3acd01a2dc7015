package sweep

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/pkg/errors"

	"github.com/spred-go/spred/internal/atomicfile"
)

// Merge writes the tables sweep.csv and sweep.md (Table, with refs, then
// the IDs of the Pareto front) and the plot sweep.png (Plot, under title)
// of the reports in the folder dir, however they were produced, each
// atomically, and returns the Results it tabulated (Load). A folder
// without reports is an error.
func Merge(dir, title string, refs []Reference) ([]Result, error) {
	rs, err := Load(dir)
	if err != nil {
		return nil, err
	}
	if len(rs) == 0 {
		return nil, errors.Errorf("no compression reports (*.json) in %s", dir)
	}
	csvOut, md := Table(rs, refs...)
	front := ParetoFront(rs)
	var ids []string
	for _, r := range front {
		ids = append(ids, strings.TrimSuffix(r.Report, ".json")) // the point's ID, for the points a sweep ran
	}
	on := "accuracy"
	if FrontOnValidation(rs) {
		on = "validation accuracy, so that no choice reads the test set"
	}
	md = append(md, fmt.Sprintf("\nPareto front (highest %s for a given compression ratio), by ratio: %s.\n", on, strings.Join(ids, ", "))...)
	if err := atomicfile.WriteBytes(filepath.Join(dir, "sweep.csv"), csvOut); err != nil {
		return nil, errors.Wrap(err, "write the sweep table")
	}
	if err := atomicfile.WriteBytes(filepath.Join(dir, "sweep.md"), md); err != nil {
		return nil, errors.Wrap(err, "write the sweep table")
	}
	if err := atomicfile.Write(filepath.Join(dir, "sweep.png"), func(w io.Writer) error { return Plot(rs, title, w) }); err != nil {
		return nil, errors.Wrap(err, "write the sweep plot")
	}
	return rs, nil
}
