"""Runs a spred model spec in PyTorch: the independent reference the
layer and engine tests compare against.

    /usr/bin/python3 scripts/torch/forward.py < request.json > reply.json

The request is a JSON object:
  spec    a spred spec (models.Spec as JSON: input, layers with type, name,
          inputs and settings)
  params  {name: {"shape": [...], "data": [...]}}, spred's parameter names
          ("conv1/W", "bn1/scale", "bn1/mean", ...), dense weights [in, out]
  x       {"shape": [N, ...], "data": [...]}
  train   optional: batch norm uses and updates batch statistics (dropout
          must have rate 0 then)
  dtype   optional: "float32" (default) or "float64"
The reply holds "logits" {"shape", "data"}, "outputs" (every named layer's
output, flat) and "buffers" (the running statistics after the pass).
Each layer follows PyTorch's own operator: F.conv2d, F.max_pool2d,
F.avg_pool2d (count_include_pad=True), F.batch_norm, torch.flatten,
F.leaky_relu (alpha 0 means 0.01), torch.sigmoid, torch.tanh, F.relu6,
torch.clamp (clip; a missing min or max is no bound) and torch.softmax over
the classes (a trailing softmax: "logits" are then the probabilities).

A conv2d or pool with settings PyTorch's operators lack (per-side "pads",
"dilation", "ceil_mode", "exclude_pad") is computed from its definition:
the input is padded explicitly by F.pad (zeros, -inf for the maximum),
then pooled without padding (dilation and ceil_mode as given); a mean is
the pooled sum of the values over the pooled sum of a mask that is 1 on
the input cells and on the padding it counts (none with exclude_pad).
With the padding explicit, PyTorch's ceil_mode drops only windows that
start past all of it, so a spec with ceil_mode should not also let a
window start in the bottom or right padding.
"""
import json
import sys

import torch
import torch.nn.functional as F

WINDOW_SETTINGS = ("pads", "dilation", "ceil_mode", "exclude_pad")


def sides(l):
    """The padding [top, left, bottom, right] of a conv2d or pool."""
    if l.get("pads"):
        return l["pads"]
    return [l.get("padding", 0)] * 4


def window_pool(a, l, kind):
    """A max or average pooling from its definition (see the docstring)."""
    k = l["kernel"]
    s = l.get("stride", 0) or k
    t, left, b, r = sides(l)
    d = l.get("dilation", 0) or 1
    ceil = bool(l.get("ceil_mode", False))
    if kind == "maxpool2d":
        xp = F.pad(a, (left, r, t, b), value=float("-inf"))
        return F.max_pool2d(xp, k, stride=s, padding=0, dilation=d, ceil_mode=ceil)
    if d != 1:
        sys.exit("forward.py: avgpool2d has no dilation")
    xp = F.pad(a, (left, r, t, b))
    mask = F.pad(torch.ones_like(a[:1, :1]), (left, r, t, b), value=0.0 if l.get("exclude_pad") else 1.0)
    total = F.avg_pool2d(xp, k, stride=s, padding=0, ceil_mode=ceil, divisor_override=1)
    count = F.avg_pool2d(mask, k, stride=s, padding=0, ceil_mode=ceil, divisor_override=1)
    return total / count


def run(req):
    dtype = {"float32": torch.float32, "float64": torch.float64}[req.get("dtype", "float32")]
    train = bool(req.get("train", False))
    spec = req["spec"]

    def tensor(t):
        return torch.tensor(t["data"], dtype=dtype).reshape(t["shape"])

    params = {k: tensor(v) for k, v in req["params"].items()}
    x = tensor(req["x"])
    outs, named = [], {"input": x}
    prev = x
    for i, l in enumerate(spec["layers"]):
        kind, name = l["type"], l.get("name", "")
        ins = [named[n] for n in l.get("inputs", [])] or [prev]
        a = ins[0]
        p = lambda role: params.get(name + "/" + role)
        k = l.get("kernel", 0)
        pad = l.get("padding", 0)
        if kind == "dense":
            y = a @ p("W")
            if p("b") is not None:
                y = y + p("b")
        elif kind == "conv2d" and l.get("pads"):
            t, left, b, r = l["pads"]
            y = F.conv2d(F.pad(a, (left, r, t, b)), p("W"), p("b"), stride=l.get("stride", 0) or 1, groups=l.get("groups", 0) or 1)
        elif kind == "conv2d":
            y = F.conv2d(a, p("W"), p("b"), stride=l.get("stride", 0) or 1, padding=pad, groups=l.get("groups", 0) or 1)
        elif kind in ("maxpool2d", "avgpool2d") and (any(l.get(f) for f in WINDOW_SETTINGS) or 2 * pad > k):
            y = window_pool(a, l, kind)
        elif kind == "maxpool2d":
            y = F.max_pool2d(a, k, stride=l.get("stride", 0) or k, padding=pad)
        elif kind == "avgpool2d":
            y = F.avg_pool2d(a, k, stride=l.get("stride", 0) or k, padding=pad, count_include_pad=True)
        elif kind == "globalavgpool2d":
            y = a.mean(dim=(2, 3), keepdim=True)
        elif kind == "batchnorm2d":
            y = F.batch_norm(a, p("mean"), p("var"), p("scale"), p("shift"), training=train,
                             momentum=l.get("momentum", 0) or 0.1, eps=l.get("eps", 0) or 1e-5)
        elif kind == "add":
            y = ins[0] + ins[1]
        elif kind == "relu":
            y = torch.relu(a)
        elif kind == "leakyrelu":
            y = F.leaky_relu(a, l.get("alpha", 0) or 0.01)
        elif kind == "sigmoid":
            y = torch.sigmoid(a)
        elif kind == "tanh":
            y = torch.tanh(a)
        elif kind == "relu6":
            y = F.relu6(a)
        elif kind == "clip":
            lo, hi = l.get("min"), l.get("max")
            y = a if lo is None and hi is None else torch.clamp(a, min=lo, max=hi)
        elif kind == "softmax":
            y = torch.softmax(a, dim=1)
        elif kind == "flatten":
            y = torch.flatten(a, 1)
        elif kind == "dropout":
            if train and l.get("rate", 0) != 0:
                sys.exit("forward.py: dropout with a non-zero rate in training mode is random")
            y = a
        else:
            sys.exit("forward.py: unknown layer type %r" % kind)
        if name:
            named[name] = y
        outs.append((name, y))
        prev = y

    def flat(t):
        return t.detach().reshape(-1).tolist()

    return {
        "logits": {"shape": list(prev.shape), "data": flat(prev)},
        "outputs": {n: flat(y) for n, y in outs if n},
        "buffers": {k: flat(v) for k, v in params.items() if k.endswith("/mean") or k.endswith("/var")},
    }


if __name__ == "__main__":
    torch.set_num_threads(1)
    json.dump(run(json.load(sys.stdin)), sys.stdout)
