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
F.leaky_relu (alpha 0 means 0.01), torch.sigmoid, torch.tanh, F.relu6 and
torch.softmax over the classes (a trailing softmax: "logits" are then the
probabilities).
"""
import json
import sys

import torch
import torch.nn.functional as F


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
        elif kind == "conv2d":
            y = F.conv2d(a, p("W"), p("b"), stride=l.get("stride", 0) or 1, padding=pad, groups=l.get("groups", 0) or 1)
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
