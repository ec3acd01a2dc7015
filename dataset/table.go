package dataset

import (
	"bufio"
	"encoding/csv"
	"io"
	"math"
	"os"
	"strconv"
	"strings"

	"github.com/pkg/errors"
)

// ReadTable reads a numeric CSV table, plain or gzip-compressed (recognised
// by its magic bytes, not by its name), for regression: column label holds
// the responses y and every other column is a feature. See ParseTable for
// the format. Errors name the path.
func ReadTable(path, label string) (X []float64, n, d int, y []float64, features []string, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, 0, nil, nil, errors.WithStack(err) // names the file
	}
	defer f.Close()
	r, closeFn, err := maybeGunzip(f)
	if err != nil {
		return nil, 0, 0, nil, nil, errors.Wrap(err, path)
	}
	defer closeFn()
	X, n, d, y, features, err = ParseTable(r, label)
	if err != nil {
		return nil, 0, 0, nil, nil, errors.Wrap(err, path)
	}
	return X, n, d, y, features, nil
}

// ParseTable parses a numeric CSV table. The first row is a header of
// distinct column names; each later row is one sample. Column label holds
// the sample's response, every other column is a feature, in header order
// (features lists their names). Every cell must be a finite number (parsed
// as float64). X holds the n×d features row-major and y the n responses.
//
// Leading and trailing spaces around names and numbers are ignored, a
// byte-order mark before the header is dropped, and blank lines are
// skipped. The table must have at least one data row and one feature
// column, and at most MaxCSVColumns columns, MaxCSVRowBytes bytes in a row
// and MaxCSVCells cells in its data rows. Errors are one line and name the
// row (counting data rows from 1), its line in the input, the column and
// the offending text.
func ParseTable(r io.Reader, label string) (X []float64, n, d int, y []float64, features []string, err error) {
	return parseTable(r, label, defaultCSVLimits)
}

func parseTable(r io.Reader, label string, lim csvLimits) (X []float64, n, d int, y []float64, features []string, err error) {
	if label == "" {
		return nil, 0, 0, nil, nil, errors.New("no label column given")
	}
	rows := &rowLimiter{r: r, limit: lim.rowBytes}
	cr := csv.NewReader(bufio.NewReaderSize(rows, 1<<16))
	cr.ReuseRecord = true
	cr.FieldsPerRecord = 0 // the header sets the field count

	rec, err := cr.Read()
	if err == io.EOF {
		return nil, 0, 0, nil, nil, errors.New("empty input: no header row")
	}
	if err != nil {
		return nil, 0, 0, nil, nil, errors.WithStack(err) // a *csv.ParseError names the line
	}
	if err := lineEndings(rec); err != nil {
		return nil, 0, 0, nil, nil, err
	}
	if len(rec) > lim.columns {
		return nil, 0, 0, nil, nil, errors.Errorf("the header has %d columns, more than %d (dataset.MaxCSVColumns)", len(rec), lim.columns)
	}
	rows.next()
	header := make([]string, len(rec))
	col := make(map[string]int, len(rec))
	for j, h := range rec {
		if j == 0 {
			h = strings.TrimPrefix(h, "\uFEFF")
		}
		h = strings.TrimSpace(h)
		if k, dup := col[h]; dup {
			return nil, 0, 0, nil, nil, errors.Errorf("duplicate column name %q (columns %d and %d)", trunc(h), k+1, j+1)
		}
		header[j] = h
		col[h] = j
	}
	li, ok := col[label]
	if !ok {
		return nil, 0, 0, nil, nil, errors.Errorf("no label column %q; columns are %s", trunc(label), listColumns(header))
	}
	for j, h := range header {
		if j != li {
			features = append(features, h)
		}
	}
	d = len(features)
	if d == 0 {
		return nil, 0, 0, nil, nil, errors.Errorf("no feature columns besides label %q", trunc(label))
	}

	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		rows.next()
		n++
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) && errors.Is(pe.Err, csv.ErrFieldCount) {
				return nil, 0, 0, nil, nil, errors.Errorf("row %d (line %d): got %d fields, want %d",
					n, pe.StartLine, len(rec), len(header))
			}
			return nil, 0, 0, nil, nil, errors.Wrapf(err, "row %d", n) // a *csv.ParseError names the line
		}
		line, _ := cr.FieldPos(0)
		if len(X)+len(y)+len(rec) > lim.cells {
			return nil, 0, 0, nil, nil, errors.Errorf("row %d (line %d): more than %d cells (dataset.MaxCSVCells)", n, line, lim.cells)
		}
		for j, cell := range rec {
			v, err := parseNumber(cell)
			if err != nil {
				return nil, 0, 0, nil, nil, errors.Errorf("row %d (line %d), column %q: %v", n, line, trunc(header[j]), err)
			}
			if j == li {
				y = append(y, v)
			} else {
				X = append(X, v)
			}
		}
	}
	if n == 0 {
		return nil, 0, 0, nil, nil, errors.New("no data rows after the header")
	}
	return X, n, d, y, features, nil
}

// parseNumber parses a cell as a finite float64.
func parseNumber(cell string) (float64, error) {
	s := strings.TrimSpace(cell)
	if s == "" {
		return 0, errors.New("empty cell (missing values are not supported)")
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return 0, errors.Errorf("cannot parse %q as a number", trunc(s))
	}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, errors.Errorf("%q is not a finite number", trunc(s))
	}
	return v, nil
}
