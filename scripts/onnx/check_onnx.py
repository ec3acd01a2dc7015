#!/usr/bin/python3
"""Checks ONNX files with onnx.checker (Debian's python3-onnx) and prints one
JSON line per file: its path, whether it passed, which check ran, the error
if any, the opset, the number of dense and sparse initializers, and the
number of Constant nodes with a sparse_value. Exits 1 if any file fails.

Usage: check_onnx.py FILE...

Files without sparse initializers get check_model(full_check=True), which
adds shape inference to the structural checks: spred's sparse exports,
whose sparse weights are Constant nodes with a sparse_value (dense tensors
to the ops that read them), pass it. Files with sparse initializers (from
other writers) get the structural check_model: onnx's shape inference
(1.12 here) types a sparse initializer as sparse_tensor(float), which no
standard op such as Gemm or Conv accepts ("Input tensors of wrong rank
(0)"), so full_check refuses every model that feeds one to an op. Their
full_check error is still reported, under "full_check_error".
"""
import json
import sys

import onnx


def main(paths):
    failed = False
    for path in paths:
        row = {"file": path, "ok": False}
        try:
            model = onnx.load(path)
            row["opset"] = max((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), default=0)
            row["initializers"] = len(model.graph.initializer)
            row["sparse_initializers"] = len(model.graph.sparse_initializer)
            row["sparse_constants"] = sum(1 for n in model.graph.node if n.op_type == "Constant" and any(a.name == "sparse_value" for a in n.attribute))
            if row["sparse_initializers"]:
                row["check"] = "structural"
                onnx.checker.check_model(model)
                try:
                    onnx.checker.check_model(model, full_check=True)
                except Exception as e:
                    row["full_check_error"] = first_line(e)
            else:
                row["check"] = "full"
                onnx.checker.check_model(model, full_check=True)
            row["ok"] = True
        except Exception as e:  # the checker raises several exception types
            row["error"] = first_line(e)
            failed = True
        print(json.dumps(row))
    sys.exit(1 if failed else 0)


def first_line(e):
    text = str(e).strip()
    return "%s: %s" % (type(e).__name__, text.splitlines()[0] if text else "")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1:])
