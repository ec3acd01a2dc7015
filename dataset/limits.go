package dataset

import (
	"bytes"
	"io"

	"github.com/pkg/errors"
)

// Limits on what the readers accept, checked before anything is allocated
// for the data they describe and, for a gzip-compressed file, as it
// inflates: a few megabytes of compressed zeros must not claim gigabytes.
const (
	// MaxIDXValues bounds the pixels of one idx image file. Each is held as
	// a byte, so a set costs at most 256 MiB, 1 GiB as float32 (MNIST's
	// training set has 47 million pixels, EMNIST's digits 188 million).
	MaxIDXValues = 1 << 28
	// MaxCSVCells bounds the cells (features and labels) of the data rows
	// of one CSV table: 256 MiB as float32 features (512 MiB as the float64
	// of ReadTable), plus the labels.
	MaxCSVCells = 1 << 26
	// MaxCSVColumns bounds the columns of a CSV table.
	MaxCSVColumns = 1 << 20
	// MaxCSVRowBytes bounds the bytes of one row of a CSV table (the header
	// included): a CSV reader holds a whole row in memory.
	MaxCSVRowBytes = 16 << 20
)

// csvLimits are the bounds a CSV reader applies: the constants above, or
// smaller ones in tests.
type csvLimits struct {
	rowBytes, columns, cells int
}

var defaultCSVLimits = csvLimits{rowBytes: MaxCSVRowBytes, columns: MaxCSVColumns, cells: MaxCSVCells}

// rowLimiter passes bytes through until a line grows longer than limit
// bytes, or more than limit bytes (and the 64 KiB a reader above it may
// buffer ahead) arrive between two calls of next, once per CSV row (whose
// quoted fields may span lines); it then fails.
type rowLimiter struct {
	r      io.Reader
	line   int // bytes since the last newline
	record int // bytes since next
	limit  int
	err    error
}

const csvLookahead = 64 << 10

func (l *rowLimiter) Read(p []byte) (int, error) {
	if l.err != nil {
		return 0, l.err
	}
	n, err := l.r.Read(p)
	b := p[:n]
	for off := 0; off < len(b); {
		run := bytes.IndexByte(b[off:], '\n')
		if run < 0 {
			run = len(b) - off
		}
		if l.line+run > l.limit {
			n = off + l.limit - l.line
			break
		}
		if off+run < len(b) {
			l.line = 0 // a newline
			run++
		} else {
			l.line += run
		}
		off += run
	}
	l.record += n
	if n < len(b) || l.record > l.limit+csvLookahead {
		l.err = errors.Errorf("a row is longer than %d bytes (dataset.MaxCSVRowBytes)", l.limit)
		return n, l.err
	}
	return n, err
}

// next starts the count for the next row.
func (l *rowLimiter) next() { l.record = 0 }
