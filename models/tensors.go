package models

import (
	"io"

	"github.com/pkg/errors"

	"github.com/spred-go/spred/internal/atomicfile"
)

// EncodeTensors writes ps to w as a plain safetensors file, for tensors
// that have no spec (the weights of a Gorgonia graph of one's own): every
// parameter in order as a little-endian F32 tensor (float64 values are
// converted) under its name, with no metadata. ReadFile does not read such
// a file back (it has no spec); any safetensors reader does. A value that is
// not finite as a float32 is refused.
func EncodeTensors(w io.Writer, ps *Params) error {
	all := ps.All()
	if len(all) == 0 {
		return errors.New("encode tensors: no tensors")
	}
	blobs := make([]blob, len(all))
	for i, p := range all {
		vals, err := finiteFloat32s(p)
		if err != nil {
			return errors.Wrap(err, "encode tensors")
		}
		blobs[i] = blob{name: p.Name, dtype: "F32", shape: p.Shape(), data: float32Bytes(vals)}
	}
	header, err := headerOf(nil, blobs)
	if err != nil {
		return errors.Wrap(err, "encode tensors")
	}
	return errors.Wrap(writeHeaderAndBlobs(w, header, blobs), "encode tensors")
}

// WriteTensorsFile atomically stores ps at path in the format
// EncodeTensors writes; on failure a previous file at path is left
// untouched. Errors mention path.
func WriteTensorsFile(path string, ps *Params) error {
	if err := atomicfile.Write(path, func(w io.Writer) error { return EncodeTensors(w, ps) }); err != nil {
		return errors.Wrapf(err, "write tensors %s", path)
	}
	return nil
}
