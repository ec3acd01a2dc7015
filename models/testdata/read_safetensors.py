#!/usr/bin/env python3
"""Independent reader for safetensors files, standard library only.

Usage: read_safetensors.py FILE

Prints one JSON object: the header length, the metadata (a map of strings),
and for every tensor its dtype, shape, data_offsets, number of values, sum
(in float64, in file order) and first values. Used by models/file_test.go to
check that files written by the Go code are plain safetensors.
"""
import json
import struct
import sys

SIZES = {"F32": (4, "f"), "F64": (8, "d")}


def read(path):
    with open(path, "rb") as f:
        blob = f.read()
    if len(blob) < 8:
        raise ValueError("file too short")
    (n,) = struct.unpack("<Q", blob[:8])
    if n > len(blob) - 8:
        raise ValueError("header length %d exceeds file" % n)
    header = json.loads(blob[8 : 8 + n].decode("utf-8"))
    data = blob[8 + n :]
    meta = header.pop("__metadata__", {})
    tensors = {}
    end = 0
    for name, info in sorted(header.items(), key=lambda kv: kv[1]["data_offsets"]):
        size, code = SIZES[info["dtype"]]
        begin, stop = info["data_offsets"]
        if begin != end:
            raise ValueError("tensor %s: offsets not contiguous" % name)
        end = stop
        count = 1
        for d in info["shape"]:
            count *= d
        if count * size != stop - begin:
            raise ValueError("tensor %s: shape does not match offsets" % name)
        values = struct.unpack("<%d%s" % (count, code), data[begin:stop])
        total = 0.0
        for v in values:
            total += v
        tensors[name] = {
            "dtype": info["dtype"],
            "shape": info["shape"],
            "data_offsets": [begin, stop],
            "count": count,
            "sum": total,
            "first": list(values[:5]),
        }
    if end != len(data):
        raise ValueError("tensors do not cover the data section")
    return {"header_len": n, "metadata": meta, "tensors": tensors}


if __name__ == "__main__":
    json.dump(read(sys.argv[1]), sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")
