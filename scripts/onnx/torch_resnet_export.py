#!/usr/bin/python3
"""Exports residual CNNs with batch norm from PyTorch to ONNX and writes
their logits on random input, for spred's importer (Debian's python3-torch
and python3-torchvision; no network, no pretrained weights).

  torch_resnet_export.py --out DIR [--count N] [--seed S] \
      VARIANT [VARIANT ...]

VARIANT is ARCH:OPSET:MODE with
  ARCH   cifar-resnet-8, cifar-resnet-20 (scripts/torch/cifar_resnet.py) or resnet18
         (torchvision.models.resnet18(num_classes=10)), on 3x32x32 input
  OPSET  the ONNX opset torch.onnx.export writes
  MODE   bn      eval mode with the BatchNormalization nodes kept
                 (training=TrainingMode.PRESERVE on a model in eval mode)
         folded  the default eval export, which folds every batch norm
                 into the convolution before it (a Conv with a bias)

The weights are PyTorch's default initialisation from --seed, with the
batch-norm scales and shifts drawn at random and the running statistics
made non-trivial by forward passes in train mode on random data (momentum
0.5). The batch dimension is dynamic. DIR receives VARIANT.onnx (":"
replaced by "-") for every variant, input.f32 (COUNT random 3x32x32
samples, little-endian float32) and prints on stdout, as JSON,
  {"input": "DIR/input.f32", "count": N, "shape": [3, 32, 32],
   "models": [{"variant": V, "file": F, "bn_nodes": K, "logits": [[...]]}]}
where logits are PyTorch's (eval mode, float32) for the samples.
"""
import argparse
import json
import os
import sys

import onnx
import torch
import torchvision

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "torch"))
import cifar_resnet  # noqa: E402


def build(arch, seed):
    torch.manual_seed(seed)
    if arch in ("cifar-resnet-8", "cifar-resnet-20"):
        m = cifar_resnet.build(arch[len("cifar-"):], 3)
    elif arch == "resnet18":
        m = torchvision.models.resnet18(num_classes=10)
    else:
        raise SystemExit("unknown arch %r" % arch)
    gen = torch.Generator().manual_seed(seed + 1)
    with torch.no_grad():
        for mod in m.modules():
            if isinstance(mod, torch.nn.BatchNorm2d):
                mod.weight.copy_(1 + 0.3 * torch.randn(mod.weight.shape, generator=gen))
                mod.bias.copy_(0.2 * torch.randn(mod.bias.shape, generator=gen))
                mod.momentum = 0.3
        m.train()
        for _ in range(3):
            m(2 * torch.randn(8, 3, 32, 32, generator=gen) + 0.5)
    m.eval()
    return m


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--count", type=int, default=16)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("variants", nargs="+")
    args = ap.parse_args()
    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
    os.makedirs(args.out, exist_ok=True)
    x = torch.randn(args.count, 3, 32, 32, generator=torch.Generator().manual_seed(args.seed + 7))
    inp = os.path.join(args.out, "input.f32")
    with open(inp, "wb") as f:
        f.write(x.numpy().astype("<f4").tobytes())
    built, result = {}, []
    for v in args.variants:
        arch, opset, mode = v.split(":")
        if arch not in built:
            built[arch] = build(arch, args.seed)
        m = built[arch]
        path = os.path.join(args.out, v.replace(":", "-") + ".onnx")
        kw = {}
        if mode == "bn":
            kw = {"training": torch.onnx.TrainingMode.PRESERVE, "do_constant_folding": False}
        elif mode != "folded":
            raise SystemExit("unknown mode %r" % mode)
        torch.onnx.export(m, torch.zeros(1, 3, 32, 32), path, opset_version=int(opset),
                          input_names=["input"], output_names=["logits"],
                          dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}}, **kw)
        bn = sum(n.op_type == "BatchNormalization" for n in onnx.load(path).graph.node)
        with torch.no_grad():
            logits = m(x)
        result.append({"variant": v, "file": path, "bn_nodes": bn, "logits": logits.tolist()})
    json.dump({"input": inp, "count": args.count, "shape": [3, 32, 32], "models": result}, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
