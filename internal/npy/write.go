package npy

import (
	"bufio"
	"encoding/binary"
	"io"
	"math"
	"strings"

	"github.com/pkg/errors"

	"github.com/spred-go/spred/internal/atomicfile"
)

// Write writes a as numpy.save writes a float32 array: version 1.0, descr
// '<f4', C order, the header padded with spaces and ended by '\n' so that
// the data starts at a multiple of 64 bytes.
func Write(w io.Writer, a *Array) error {
	if err := a.Validate(); err != nil {
		return err
	}
	dict := "{'descr': '<f4', 'fortran_order': False, 'shape': " + tupleString(a.Shape) + ", }"
	total := (10 + len(dict) + 1 + 63) / 64 * 64
	hdr := dict + strings.Repeat(" ", total-10-len(dict)-1) + "\n"
	if len(hdr) > MaxHeaderLen {
		return errors.Errorf("shape %v: the header would be %d bytes, over the %d-byte limit", a.Shape, len(hdr), MaxHeaderLen)
	}
	bw := bufio.NewWriterSize(w, chunk)
	bw.WriteString(magic + "\x01\x00")
	binary.Write(bw, binary.LittleEndian, uint16(len(hdr)))
	bw.WriteString(hdr)
	var b [4]byte
	for _, v := range a.Data {
		binary.LittleEndian.PutUint32(b[:], math.Float32bits(v))
		bw.Write(b[:]) // an error sticks and is returned by Flush
	}
	return bw.Flush()
}

// WriteFile atomically writes a to path as Write does: a reader of path
// sees the previous file or the whole new one. Errors mention path.
func WriteFile(path string, a *Array) error {
	err := atomicfile.Write(path, func(w io.Writer) error { return Write(w, a) })
	return errors.Wrapf(err, "write array %s", path)
}
