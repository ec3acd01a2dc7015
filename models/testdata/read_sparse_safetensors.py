#!/usr/bin/env python3
"""Independent reader for spred's native sparse safetensors files, standard
library only.

Usage: read_sparse_safetensors.py FILE

Expands every parameter (dense F32 tensors as they are; sparse ones from
NAME.mask or NAME.index and NAME.values, as the "spred.sparse" metadata
says) and prints one JSON object: for each parameter its encoding ("" when
dense), shape, number of non-zero values, sum, and sum of (i mod 97)·value
over the row-major positions i (which a misplaced value changes). Used by
models/sparse_test.go.
"""
import json
import struct
import sys


def main(path):
    with open(path, "rb") as f:
        blob = f.read()
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8 : 8 + n].decode("utf-8"))
    data = blob[8 + n :]
    meta = header.pop("__metadata__", {})
    sparse = json.loads(meta.get("spred.sparse", "{}"))

    def raw(name):
        begin, end = header[name]["data_offsets"]
        return data[begin:end]

    def floats(name):
        b = raw(name)
        return list(struct.unpack("<%df" % (len(b) // 4), b))

    params = {}
    for name, info in header.items():
        if name.endswith((".mask", ".index", ".values")):
            continue
        if info["dtype"] != "F32":
            raise ValueError("%s: dtype %s" % (name, info["dtype"]))
        params[name] = ("", info["shape"], floats(name))
    for name, entry in sparse.items():
        count = 1
        for d in entry["shape"]:
            count *= d
        values = floats(name + ".values")
        dense = [0.0] * count
        if entry["encoding"] == "bitmask":
            mask = raw(name + ".mask")
            positions = [i for i in range(count) if mask[i // 8] >> (i % 8) & 1]
        elif entry["encoding"] == "index":
            b = raw(name + ".index")
            positions = list(struct.unpack("<%dI" % (len(b) // 4), b))
        else:
            raise ValueError("%s: encoding %s" % (name, entry["encoding"]))
        if len(positions) != len(values):
            raise ValueError("%s: %d positions, %d values" % (name, len(positions), len(values)))
        for i, v in zip(positions, values):
            dense[i] = v
        params[name] = (entry["encoding"], entry["shape"], dense)

    out = {}
    for name, (encoding, shape, values) in params.items():
        out[name] = {
            "encoding": encoding,
            "shape": shape,
            "nonzero": sum(1 for v in values if v != 0),
            "sum": sum(values),
            "weighted": sum((i % 97) * v for i, v in enumerate(values)),
        }
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1])
