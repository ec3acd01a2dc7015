#!/usr/bin/env python3
"""Writes an idx folder whose "train" files are the first 50,000 MNIST training
images and whose "t10k" files are the last 10,000 (a validation split), so
that recipes can be compared without looking at the test set:

    valsplit.py SRC_DIR OUT_DIR      # SRC_DIR: the four MNIST idx .gz files
"""
import gzip
import os
import struct
import sys

src, out = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)
img = gzip.open(os.path.join(src, "train-images-idx3-ubyte.gz")).read()
lab = gzip.open(os.path.join(src, "train-labels-idx1-ubyte.gz")).read()
n, h, w = struct.unpack(">III", img[4:16])
assert struct.unpack(">I", img[:4])[0] == 2051 and n == 60000, "not MNIST's training images"
cut = 50000


def write(name, magic, dims, body):
    with gzip.GzipFile(os.path.join(out, name), "wb", mtime=0) as f:
        f.write(struct.pack(">I", magic) + b"".join(struct.pack(">I", d) for d in dims) + body)


write("train-images-idx3-ubyte.gz", 2051, [cut, h, w], img[16:16 + cut * h * w])
write("train-labels-idx1-ubyte.gz", 2049, [cut], lab[8:8 + cut])
write("t10k-images-idx3-ubyte.gz", 2051, [n - cut, h, w], img[16 + cut * h * w:])
write("t10k-labels-idx1-ubyte.gz", 2049, [n - cut], lab[8 + cut:])
