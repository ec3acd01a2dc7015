"""Trains He et al.'s CIFAR ResNet (scripts/torch/cifar_resnet.py) on an idx
image folder (Fashion-MNIST by default) in PyTorch and exports it to ONNX
with its batch norms kept: the model a PyTorch user brings to spred.

    /usr/bin/python3 scripts/torch/train_fashion.py --out resnet8.onnx \\
        [--data /usr/share/datasets/fashion-mnist] [--arch resnet-8] [--epochs 2] [--seed 1]

SGD with momentum 0.9, lr 0.1 (cosine), weight decay 5e-4, batch 100; the
test accuracy is printed (and written as JSON next to the ONNX file).
"""
import argparse
import gzip
import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cifar_resnet  # noqa: E402


def idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load(folder, prefix):
    x = idx(os.path.join(folder, prefix + "-images-idx3-ubyte.gz")).astype(np.float32) / 255
    y = idx(os.path.join(folder, prefix + "-labels-idx1-ubyte.gz")).astype(np.int64)
    return torch.from_numpy(x).unsqueeze(1), torch.from_numpy(y)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    ap.add_argument("--arch", default="resnet-8")
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    torch.manual_seed(a.seed)
    torch.set_num_threads(2)
    xtr, ytr = load(a.data, "train")
    xte, yte = load(a.data, "t10k")
    m = cifar_resnet.build(a.arch, 1)
    opt = torch.optim.SGD(m.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)
    steps = a.epochs * (len(ytr) // 100)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    for epoch in range(a.epochs):
        m.train()
        perm = torch.randperm(len(ytr))
        for i in range(0, len(ytr) - 99, 100):
            b = perm[i:i + 100]
            opt.zero_grad()
            F.cross_entropy(m(xtr[b]), ytr[b]).backward()
            opt.step()
            sched.step()
        m.eval()
        with torch.no_grad():
            acc = sum((m(xte[i:i + 1000]).argmax(1) == yte[i:i + 1000]).sum().item() for i in range(0, len(yte), 1000)) / len(yte)
        print("epoch %d: test accuracy %.2f%%" % (epoch + 1, 100 * acc), flush=True)
    m.eval()
    torch.onnx.export(m, torch.zeros(1, 1, 28, 28), a.out, opset_version=13, input_names=["input"],
                      output_names=["logits"], dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
                      training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=False)
    with open(os.path.splitext(a.out)[0] + ".json", "w") as f:
        json.dump({"arch": a.arch, "epochs": a.epochs, "seed": a.seed, "test_accuracy": acc}, f)


if __name__ == "__main__":
    main()
