#!/usr/bin/python3
"""Builds a small MLP or LeNet-5 in PyTorch, optionally trains it on MNIST,
exports it to ONNX and writes its logits on MNIST test images.

An independent source of ONNX files for spred's importer (Debian's
python3-torch; no network). Usage:

  torch_export.py --arch ARCH --out model.onnx [--opset 13] [--seed 1]
                  [--static-batch] [--mnist DIR] [--train-epochs E]
                  [--train-samples N] [--logits logits.json] [--count N]

ARCH is one of
  mlp            Flatten, Linear 784-64, ReLU, Linear 64-10 on 1x28x28 input
                 (ONNX Flatten and Gemm)
  mlp-matmul     x @ W + b, ReLU, Linear 32-10 on 784-wide input
                 (ONNX MatMul and Add)
  lenet-300-100  Linear 784-300-100-10 with ReLU on 784-wide input
  lenet-5        Caffe LeNet-5 (conv 20@5x5, maxpool 2, conv 50@5x5,
                 maxpool 2, fc 500, ReLU, fc 10) flattening with
                 x.view(x.size(0), -1) (Shape, Gather, Unsqueeze, Concat,
                 Reshape around the flatten)

The weights are PyTorch's default initialisation from --seed; with
--train-epochs they are then trained with SGD (momentum 0.9, lr 0.05 for the
MLPs, 0.02 for LeNet-5, batch 100). The batch dimension is dynamic unless
--static-batch. --logits writes {"logits": [[...], ...], "labels": [...]}
for the first --count test images (pixels scaled to [0, 1] as spred does).
"""
import argparse
import gzip
import json
import os
import struct
import sys

import torch
import torch.nn as nn


class MatMulMLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.randn(784, 32) * (2 / 784) ** 0.5)
        self.b = nn.Parameter(torch.randn(32) * 0.1)
        self.out = nn.Linear(32, 10)

    def forward(self, x):
        return self.out(torch.relu(x @ self.w + self.b))


class LeNet5(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 20, 5)
        self.conv2 = nn.Conv2d(20, 50, 5)
        self.fc1 = nn.Linear(800, 500)
        self.fc2 = nn.Linear(500, 10)

    def forward(self, x):
        x = nn.functional.max_pool2d(self.conv1(x), 2)
        x = nn.functional.max_pool2d(self.conv2(x), 2)
        x = x.view(x.size(0), -1)
        return self.fc2(torch.relu(self.fc1(x)))


def build(arch):
    """Returns the model and its per-sample input shape."""
    if arch == "mlp":
        return nn.Sequential(nn.Flatten(), nn.Linear(784, 64), nn.ReLU(), nn.Linear(64, 10)), (1, 28, 28)
    if arch == "mlp-matmul":
        return MatMulMLP(), (784,)
    if arch == "lenet-300-100":
        return nn.Sequential(nn.Linear(784, 300), nn.ReLU(), nn.Linear(300, 100), nn.ReLU(), nn.Linear(100, 10)), (784,)
    if arch == "lenet-5":
        return LeNet5(), (1, 28, 28)
    raise SystemExit("unknown --arch %r" % arch)


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack(">I", data[:4])[0]
    ndim = magic & 0xFF
    dims = struct.unpack(">%dI" % ndim, data[4 : 4 + 4 * ndim])
    return dims, data[4 + 4 * ndim :]


def load_mnist(folder, split, shape):
    prefix = "train" if split == "train" else "t10k"
    dims, pix = read_idx(os.path.join(folder, prefix + "-images-idx3-ubyte.gz"))
    _, lab = read_idx(os.path.join(folder, prefix + "-labels-idx1-ubyte.gz"))
    x = torch.frombuffer(bytearray(pix), dtype=torch.uint8).to(torch.float32) / 255
    y = torch.frombuffer(bytearray(lab), dtype=torch.uint8).to(torch.int64)
    return x.reshape((dims[0],) + shape), y


def train(model, x, y, epochs, lr, seed):
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    model.train()
    for epoch in range(epochs):
        perm = torch.randperm(x.shape[0], generator=gen)
        total = 0.0
        for i in range(0, x.shape[0], 100):
            idx = perm[i : i + 100]
            opt.zero_grad()
            loss = loss_fn(model(x[idx]), y[idx])
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
        print("epoch %d: train loss %.4f" % (epoch + 1, total / x.shape[0]), file=sys.stderr)
    model.eval()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--arch", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--opset", type=int, default=13)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--static-batch", action="store_true")
    ap.add_argument("--mnist", default=os.environ.get("SPRED_MNIST_DIR", ""))
    ap.add_argument("--train-epochs", type=int, default=0)
    ap.add_argument("--train-samples", type=int, default=0)
    ap.add_argument("--logits", default="")
    ap.add_argument("--count", type=int, default=10000)
    args = ap.parse_args()

    torch.manual_seed(args.seed)
    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
    model, shape = build(args.arch)
    model.eval()
    if args.train_epochs > 0:
        x, y = load_mnist(args.mnist, "train", shape)
        if args.train_samples > 0:
            x, y = x[: args.train_samples], y[: args.train_samples]
        train(model, x, y, args.train_epochs, 0.02 if args.arch == "lenet-5" else 0.05, args.seed)

    dynamic = None if args.static_batch else {"input": {0: "batch"}, "logits": {0: "batch"}}
    torch.onnx.export(model, torch.zeros((1,) + shape), args.out, opset_version=args.opset,
                      input_names=["input"], output_names=["logits"], dynamic_axes=dynamic)

    if args.logits:
        x, y = load_mnist(args.mnist, "test", shape)
        x, y = x[: args.count], y[: args.count]
        with torch.no_grad():
            logits = torch.cat([model(x[i : i + 500]) for i in range(0, x.shape[0], 500)])
        correct = int((logits.argmax(1) == y).sum())
        with open(args.logits, "w") as f:
            json.dump({"logits": logits.tolist(), "labels": y.tolist()}, f)
        print("%s: accuracy %.2f%% on %d test images" % (args.arch, 100 * correct / len(y), len(y)), file=sys.stderr)


if __name__ == "__main__":
    main()
