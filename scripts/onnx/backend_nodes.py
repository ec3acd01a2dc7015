"""Writes the ONNX backend's own single-operator test cases for the ops
spred imports, as JSON: the model, its input and its expected output.

    /usr/bin/python3 scripts/onnx/backend_nodes.py > cases.json

It runs onnx's test-case generators (onnx/backend/test/case/node/*.py,
shipped with Debian's python3-onnx; each export function calls `expect`
with a node, its inputs and the reference outputs) for the modules of
the operators below, and keeps the cases whose node is one of them
(not the `_expanded` function bodies). Each case is turned into what a
user exporting a trained network has:

  - the first graph input is the network's input; every other input
    the case gives a value for becomes an initializer (weights, biases,
    Clip bounds, Reshape shapes, Pad amounts);
  - the outputs are kept as they are (a Dropout that also returns its
    mask is refused);
  - the input and output of an element-wise op (Relu, LeakyRelu,
    Sigmoid, Tanh, Clip, Identity, Dropout) of a rank other than 2 or 4
    are reshaped to [batch, features] ([1, n] for rank 1; "reshaped":
    true), which its values do not depend on;
  - an output of rank above 2 is flattened by an appended
    Flatten(axis=1) (spred's last layer gives flat class scores), which
    leaves the values as they are ("flattened": true).

The reply is a JSON list of {"name", "op", "opset", "model" (base64 of
the serialized model), "flattened", "x" and "y" ({"shape", "dtype",
"data"})}.
"""
import base64
import importlib
import json
import sys

import numpy as np
import onnx
from onnx import helper, numpy_helper

OPS = {
    "Conv": "conv", "BatchNormalization": "batchnorm", "Add": "add", "Relu": "relu",
    "MaxPool": "maxpool", "AveragePool": "averagepool", "GlobalAveragePool": "globalaveragepool",
    "Flatten": "flatten", "Reshape": "reshape", "Gemm": "gemm", "MatMul": "matmul",
    "Identity": "identity", "Dropout": "dropout", "LeakyRelu": "leakyrelu", "Sigmoid": "sigmoid",
    "Tanh": "tanh", "Clip": "clip", "Softmax": "softmax", "Pad": "pad",
}


# Ops whose output value at a position depends on the input value there
# only, so that a case on any shape may run on [batch, features].
ELEMENTWISE = {"Relu", "LeakyRelu", "Sigmoid", "Tanh", "Clip", "Identity", "Dropout"}


def collect():
    import onnx.backend.test.case.node as node
    node._TargetOpType = None  # every case of the modules imported below
    for mod in sorted(set(OPS.values())):
        importlib.import_module("onnx.backend.test.case.node." + mod)
    return node._NodeTestCases


def tensor(a):
    a = np.asarray(a)
    return {"shape": list(a.shape), "dtype": str(a.dtype), "data": a.reshape(-1).tolist()}


def convert(case):
    model = onnx.ModelProto()
    model.CopyFrom(case.model)
    g = model.graph
    inputs, outputs = case.data_sets[0]
    # Inputs the case gives values for become initializers, except the first.
    given = [vi.name for vi in g.input][: len(inputs)]
    keep = list(g.input)[:1]
    for name, value in zip(given[1:], inputs[1:]):
        g.initializer.append(numpy_helper.from_array(np.asarray(value), name))
    rest = list(g.input)[len(inputs):]
    del g.input[:]
    g.input.extend(keep + rest)
    x, y = np.asarray(inputs[0]), np.asarray(outputs[0])
    op = g.node[0].op_type
    reshaped = False
    if op in ELEMENTWISE and x.ndim not in (2, 4) and x.dtype == np.float32 and len(g.output) == 1 and y.shape == x.shape:
        # The values do not depend on the shape: [batch, features].
        shape = [1, x.size] if x.ndim <= 1 else [x.shape[0], x.size // x.shape[0]]
        x, y = x.reshape(shape), y.reshape(shape)
        g.input[0].CopyFrom(helper.make_tensor_value_info(g.input[0].name, onnx.TensorProto.FLOAT, shape))
        g.output[0].CopyFrom(helper.make_tensor_value_info(g.output[0].name, onnx.TensorProto.FLOAT, shape))
        reshaped = True
    flattened = False
    if np.asarray(y).ndim > 2 and len(g.output) == 1:
        out = g.output[0]
        inner = out.name + "_unflat"
        for n in g.node:
            n.output[:] = [inner if o == out.name else o for o in n.output]
        g.node.append(helper.make_node("Flatten", [inner], [out.name], axis=1))
        y = np.asarray(y)
        y = y.reshape(y.shape[0], -1)
        del g.output[:]
        g.output.append(helper.make_tensor_value_info(out.name, onnx.TensorProto.FLOAT, None))
        flattened = True
    opset = [o.version for o in model.opset_import if o.domain in ("", "ai.onnx")]
    return {
        "name": case.name,
        "op": case.model.graph.node[0].op_type,
        "opset": opset[0] if opset else 0,
        "model": base64.b64encode(model.SerializeToString()).decode(),
        "flattened": flattened,
        "reshaped": reshaped,
        "x": tensor(x),
        "y": tensor(y),
    }


def main():
    out = []
    for case in collect():
        g = case.model.graph
        if case.name.endswith("_expanded") or len(g.node) != 1 or g.node[0].op_type not in OPS:
            continue
        out.append(convert(case))
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
