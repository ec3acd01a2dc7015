#!/usr/bin/env python3
"""PyTorch reference for benchmarks/perf: trains a zoo architecture with every
prunable weight rewritten as u*v (the spred parametrisation), SGD with momentum
0.9, weight decay on u and v only, batch 100, float32, on random data of MNIST's
shape, and prints one JSON line with the same keys as the Go harness.

Run with Debian's python3-torch: /usr/bin/python3 benchmarks/torch_ref.py --model lenet-5
"""
import argparse
import json
import os
import resource
import time

import sys

import torch
import torch.nn.functional as F
from torch.nn.utils import parametrize

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts", "torch"))


def factor(shape, gen):
    # Balanced factors of a random weight, as compress.Split makes them.
    w = torch.randn(shape, generator=gen) * 0.05
    u = torch.sign(w) * w.abs().sqrt()
    v = w.abs().sqrt()
    return torch.nn.Parameter(u), torch.nn.Parameter(v)


class Net(torch.nn.Module):
    """lenet-300-100 (784-300-100-10, ReLU) or lenet-5 (Caffe: conv 20@5x5,
    maxpool 2, conv 50@5x5, maxpool 2, fc 500 + ReLU, fc 10): the zoo's specs."""

    def __init__(self, name, gen):
        super().__init__()
        self.name = name
        if name == "lenet-300-100":
            shapes = [("fc1", (300, 784)), ("fc2", (100, 300)), ("fc3", (10, 100))]
        elif name == "lenet-5":
            shapes = [("conv1", (20, 1, 5, 5)), ("conv2", (50, 20, 5, 5)),
                      ("fc1", (500, 800)), ("fc2", (10, 500))]
        else:
            raise SystemExit(f"unknown model {name}")
        self.u, self.v, self.b = (torch.nn.ParameterDict() for _ in range(3))
        for n, s in shapes:
            self.u[n], self.v[n] = factor(s, gen)
            self.b[n] = torch.nn.Parameter(torch.zeros(s[0]))

    def w(self, n):
        return self.u[n] * self.v[n]

    def forward(self, x):
        if self.name == "lenet-300-100":
            x = F.relu(F.linear(x, self.w("fc1"), self.b["fc1"]))
            x = F.relu(F.linear(x, self.w("fc2"), self.b["fc2"]))
            return F.linear(x, self.w("fc3"), self.b["fc3"])
        x = F.max_pool2d(F.conv2d(x, self.w("conv1"), self.b["conv1"]), 2)
        x = F.max_pool2d(F.conv2d(x, self.w("conv2"), self.b["conv2"]), 2)
        x = F.relu(F.linear(x.flatten(1), self.w("fc1"), self.b["fc1"]))
        return F.linear(x, self.w("fc2"), self.b["fc2"])


class UV(torch.nn.Module):
    """The spred parametrisation w = u*v of one weight, from balanced factors."""

    def forward(self, u, v):
        return u * v

    def right_inverse(self, w):
        return torch.sign(w) * w.abs().sqrt(), w.abs().sqrt()


def resnet(name, gen):
    """A CIFAR ResNet of scripts/torch/cifar_resnet.py (the zoo's definition)
    for 1x28x28 inputs, every conv and linear weight rewritten as u*v."""
    import cifar_resnet
    torch.manual_seed(int(torch.randint(0, 2**31, (1,), generator=gen)))
    net = cifar_resnet.build(name, 1)
    for mod in net.modules():
        if isinstance(mod, (torch.nn.Conv2d, torch.nn.Linear)):
            parametrize.register_parametrization(mod, "weight", UV(), unsafe=True)
    decayed = [p for n, p in net.named_parameters() if "parametrizations.weight.original" in n]
    others = [p for n, p in net.named_parameters() if "parametrizations.weight.original" not in n]
    return net, decayed, others


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--model", default="lenet-300-100")
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--batch", type=int, default=100)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--gemm", type=int, default=0, help="time an NxNxN float32 matmul instead")
    ap.add_argument("--channels-last", action="store_true", help="NHWC memory format for the CNNs")
    ap.add_argument("--no-mkldnn", action="store_true",
                    help="turn off oneDNN (MKL-DNN): convolutions through PyTorch's own im2col and matrix products")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    if a.no_mkldnn:
        torch.backends.mkldnn.enabled = False
    gen = torch.Generator().manual_seed(a.seed)
    out = {"impl": "pytorch " + torch.__version__, "threads": torch.get_num_threads(), "blas": "torch"}
    if a.gemm:
        n = a.gemm
        x, y = torch.rand(n, n, generator=gen), torch.rand(n, n, generator=gen)
        x @ y
        best = min(timed(lambda: x @ y) for _ in range(5))
        out.update(model=f"sgemm-{n}", gflop_per_s=2 * n ** 3 / best / 1e9)
    else:
        if a.model.startswith("resnet"):
            net, decayed, others = resnet(a.model, gen)
        else:
            net = Net(a.model, gen)
            decayed, others = list(net.u.values()) + list(net.v.values()), list(net.b.values())
        shape = (784,) if a.model == "lenet-300-100" else (1, 28, 28)
        n = (a.warmup + a.steps) * a.batch
        X = torch.rand((n,) + shape, generator=gen)
        Y = torch.randint(0, 10, (n,), generator=gen)
        if a.channels_last and len(shape) == 3:
            net = net.to(memory_format=torch.channels_last)
            X = X.contiguous(memory_format=torch.channels_last)
        net.train()
        opt = torch.optim.SGD([
            {"params": decayed, "weight_decay": 1e-4},
            {"params": others, "weight_decay": 0.0},
        ], lr=0.01, momentum=0.9)
        start = None
        for s in range(a.warmup + a.steps):
            if s == a.warmup:
                start = time.perf_counter()
            xb, yb = X[s * a.batch:(s + 1) * a.batch], Y[s * a.batch:(s + 1) * a.batch]
            opt.zero_grad(set_to_none=True)
            logits = net(xb)
            loss = F.cross_entropy(logits, yb)
            loss.backward()
            opt.step()
            (logits.argmax(1) == yb).sum().item()  # the Go side counts hits too
        per = (time.perf_counter() - start) / a.steps
        out.update(model=a.model, batch=a.batch, steps=a.steps, seconds_per_step=per,
                   channels_last=bool(a.channels_last and len(shape) == 3),
                   mkldnn=torch.backends.mkldnn.enabled,
                   omp_wait_policy=os.environ.get("OMP_WAIT_POLICY", ""),
                   steps_per_second=1 / per, seconds_per_epoch=per * 60000 / a.batch)
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(out))


def timed(f):
    t = time.perf_counter()
    f()
    return time.perf_counter() - t


if __name__ == "__main__":
    main()
