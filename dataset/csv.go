package dataset

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/pkg/errors"
)

// CSVOptions says how to turn a CSV table into a Dataset.
type CSVOptions struct {
	// Label names the column holding the class labels (required). Labels
	// may be any non-empty strings.
	Label string
	// Ignore names columns to drop, e.g. other label columns. Each must be
	// in the header.
	Ignore []string
	// Classes, if not empty, keeps only the rows whose label is one of these
	// values, and numbers the classes in this order. Each value must occur
	// in the data. If empty, every row is kept and the classes are the
	// sorted distinct label values.
	Classes []string
}

// ReadCSV reads a CSV file, plain or gzip-compressed (recognised by its
// magic bytes, not by its name), with class labels in column label. See
// ParseCSVWith for the format.
func ReadCSV(path, label string) (*Dataset, error) {
	return ReadCSVWith(path, CSVOptions{Label: label})
}

// ParseCSV parses CSV data with class labels in column label. The dataset is
// called name. See ParseCSVWith for the format.
func ParseCSV(r io.Reader, name, label string) (*Dataset, error) {
	return ParseCSVWith(r, name, CSVOptions{Label: label})
}

// ReadCSVWith reads a CSV file, plain or gzip-compressed (recognised by its
// magic bytes, not by its name), as ParseCSVWith does. The dataset is named
// after the file's base name without its extensions ("all" for
// "data/all.csv.gz"); errors name the path.
func ReadCSVWith(path string, o CSVOptions) (*Dataset, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, errors.WithStack(err) // names the file
	}
	defer f.Close()
	r, closeFn, err := maybeGunzip(f)
	if err != nil {
		return nil, errors.Wrap(err, path)
	}
	defer closeFn()
	d, err := parseCSV(r, o, defaultCSVLimits)
	if err != nil {
		return nil, errors.Wrap(err, path)
	}
	d.Name = csvName(path)
	return d, nil
}

// ParseCSVWith parses CSV data into a dataset called name.
//
// The first row is a header of distinct column names. Each later row is one
// sample: column o.Label holds its class label, the columns in o.Ignore are
// dropped, and every other column is a feature whose cells must be finite
// numbers (parsed as float64, stored as float32). Shape is [number of
// features] and Features the feature column names. Leading and trailing
// spaces around names, labels and numbers are ignored; blank lines are
// skipped. Rows dropped by o.Classes are checked for their field count and
// label only.
//
// The result has at least one row and two classes. A table may have at
// most MaxCSVColumns columns, MaxCSVRowBytes bytes in a row and
// MaxCSVCells cells in its data rows. Errors are one line and name the row
// (counting data rows from 1), its line in the input, the column and the
// offending text.
func ParseCSVWith(r io.Reader, name string, o CSVOptions) (*Dataset, error) {
	d, err := parseCSV(r, o, defaultCSVLimits)
	if err != nil {
		if name == "" {
			name = "csv"
		}
		return nil, errors.Wrap(err, name)
	}
	d.Name = name
	return d, nil
}

func parseCSV(r io.Reader, o CSVOptions, lim csvLimits) (*Dataset, error) {
	o.Label = strings.TrimSpace(o.Label)
	if o.Label == "" {
		return nil, errors.New("no label column given")
	}
	rows := &rowLimiter{r: r, limit: lim.rowBytes}
	br := bufio.NewReaderSize(rows, 1<<16)
	if bom, _ := br.Peek(3); string(bom) == "\uFEFF" {
		_, _ = br.Discard(3) // a UTF-8 byte-order mark, as some spreadsheets write
	}
	cr := csv.NewReader(br)
	cr.ReuseRecord = true
	cr.FieldsPerRecord = 0 // the header sets the field count

	rec, err := cr.Read()
	if err == io.EOF {
		return nil, errors.New("empty input: no header row")
	}
	if err != nil {
		return nil, errors.WithStack(err) // a *csv.ParseError names the line
	}
	if err := lineEndings(rec); err != nil {
		return nil, err
	}
	if len(rec) > lim.columns {
		return nil, errors.Errorf("the header has %d columns, more than %d (dataset.MaxCSVColumns)", len(rec), lim.columns)
	}
	rows.next()
	header := make([]string, len(rec))
	for j, h := range rec {
		header[j] = strings.TrimSpace(h)
	}
	col := make(map[string]int, len(header))
	for j, h := range header {
		if k, dup := col[h]; dup {
			return nil, errors.Errorf("duplicate column name %q (columns %d and %d)", trunc(h), k+1, j+1)
		}
		col[h] = j
	}

	li, ok := col[o.Label]
	if !ok {
		return nil, errors.Errorf("no label column %q; columns are %s", trunc(o.Label), listColumns(header))
	}
	drop := make([]bool, len(header))
	drop[li] = true
	for _, c := range o.Ignore {
		c = strings.TrimSpace(c)
		j, ok := col[c]
		if !ok {
			return nil, errors.Errorf("ignored column %q is not in the header; columns are %s", trunc(c), listColumns(header))
		}
		if j == li {
			return nil, errors.Errorf("column %q is both the label and ignored", trunc(c))
		}
		drop[j] = true
	}
	var feat []int
	var features []string
	for j, h := range header {
		if !drop[j] {
			feat = append(feat, j)
			features = append(features, h)
		}
	}
	if len(feat) == 0 {
		return nil, errors.Errorf("no feature columns besides label %q", trunc(o.Label))
	}

	// Class ids: from o.Classes, or in order of first appearance (sorted
	// at the end).
	classID := make(map[string]int)
	var names []string
	for _, c := range o.Classes {
		c = strings.TrimSpace(c)
		if c == "" {
			return nil, errors.New("empty class name in the list of classes")
		}
		if _, dup := classID[c]; dup {
			return nil, errors.Errorf("class %q listed twice", trunc(c))
		}
		classID[c] = len(names)
		names = append(names, c)
	}
	filter := len(names) > 0
	seen := make([]bool, len(names))

	X := make([]float32, 0, 64*len(feat))
	var Y []int
	row, cells := 0, 0
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		rows.next()
		row++
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) && errors.Is(pe.Err, csv.ErrFieldCount) {
				return nil, errors.Errorf("row %d (line %d): got %d fields, want %d",
					row, pe.StartLine, len(rec), len(header))
			}
			return nil, errors.Wrapf(err, "row %d", row) // a *csv.ParseError names the line
		}
		line, _ := cr.FieldPos(0)
		if cells += len(feat) + 1; cells > lim.cells {
			return nil, errors.Errorf("row %d (line %d): more than %d cells (dataset.MaxCSVCells)", row, line, lim.cells)
		}

		lab := strings.TrimSpace(rec[li])
		if lab == "" {
			return nil, errors.Errorf("row %d (line %d): empty label in column %q", row, line, trunc(o.Label))
		}
		id, ok := classID[lab]
		switch {
		case ok:
		case filter:
			continue
		default:
			// Clone: lab points into the whole line's text.
			id = len(names)
			lab = strings.Clone(lab)
			classID[lab] = id
			names = append(names, lab)
			seen = append(seen, false)
		}
		seen[id] = true

		for _, j := range feat {
			v, err := parseCell(rec[j])
			if err != nil {
				return nil, errors.Errorf("row %d (line %d), column %q: %v", row, line, trunc(header[j]), err)
			}
			X = append(X, v)
		}
		Y = append(Y, id)
	}

	if row == 0 {
		return nil, errors.New("no data rows after the header")
	}
	for i, s := range seen {
		if !s {
			return nil, errors.Errorf("class %q never occurs in label column %q", trunc(names[i]), trunc(o.Label))
		}
	}
	if len(names) < 2 {
		return nil, errors.Errorf("need at least 2 classes, label column %q has only %q", trunc(o.Label), trunc(names[0]))
	}
	if !filter {
		// Renumber the classes in sorted order of their names.
		order := make([]int, len(names))
		for i := range order {
			order[i] = i
		}
		sort.Slice(order, func(a, b int) bool { return names[order[a]] < names[order[b]] })
		newID := make([]int, len(names))
		sorted := make([]string, len(names))
		for k, old := range order {
			newID[old] = k
			sorted[k] = names[old]
		}
		for i, y := range Y {
			Y[i] = newID[y]
		}
		names = sorted
	}
	return &Dataset{
		X:          X,
		Y:          Y,
		Shape:      []int{len(feat)},
		Classes:    len(names),
		ClassNames: names,
		Features:   features,
	}, nil
}

// parseCell parses a feature cell as a finite number that fits a float32.
func parseCell(cell string) (float32, error) {
	v, err := parseNumber(cell)
	if err != nil {
		return 0, err
	}
	f := float32(v)
	if math.IsInf(float64(f), 0) {
		return 0, errors.Errorf("%q is out of float32 range", trunc(strings.TrimSpace(cell)))
	}
	return f, nil
}

// listColumns lists the first few column names for an error message.
func listColumns(header []string) string {
	const show = 5
	var b strings.Builder
	for j, h := range header {
		if j == show {
			fmt.Fprintf(&b, ", ... (%d columns)", len(header))
			break
		}
		if j > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%q", trunc(h))
	}
	return b.String()
}

// trunc shortens s for an error message.
func trunc(s string) string {
	const limit = 40
	if len(s) <= limit {
		return s
	}
	cut := limit
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}

// csvName is the base name of path without its extensions: "all" for
// "data/all.csv.gz".
func csvName(path string) string {
	base := filepath.Base(path)
	base = strings.TrimSuffix(base, ".gz")
	if ext := filepath.Ext(base); ext != "" && ext != base {
		base = strings.TrimSuffix(base, ext)
	}
	return base
}

// lineEndings refuses a header row that holds a carriage return: the lines
// of the file end with CR alone (as classic Mac OS wrote them), which the
// CSV reader does not take as line ends, so that the whole file reads as
// one header row (and then as duplicate or strange column names).
func lineEndings(header []string) error {
	for _, h := range header {
		if strings.ContainsRune(h, '\r') {
			return errors.New("the lines end with a carriage return (CR) alone, as classic Mac OS wrote them: convert them to LF or CRLF line endings")
		}
	}
	return nil
}
