// Package interop moves models between this toolkit and ONNX.
//
// Decode (and ReadFile) import what torch.onnx.export writes for MLPs,
// CNNs and residual CNNs at opsets 7 to 18, and the older files (opsets 1
// to 6) of model zoos and of ONNX's own test data. Every op is read at
// every opset from 1 to 18 with the attributes and meaning it has there:
// consumed_inputs (before 6) is ignored; an Add before 7 must broadcast its
// constant second input per unit or channel (broadcast=1, axis=1 or the
// last dimensions of a dense layer's output), Gemm before 7 must have
// broadcast=1 and before 11 its C input, BatchNormalization before 7
// is_test=1 (and before 9 spatial=1), Dropout before 7 is_test=1,
// AveragePool before 7 leaves padding out of the mean (exclude_pad);
// Reshape takes its target shape from an attribute before 5, Pad its
// amounts from paddings at 1 and pads at 2 to 10, Cast its type by name
// before 6; attributes an op does not have at the file's opset (such as
// MaxPool's ceil_mode before 10) are refused. The importer walks the graph
// from its one input in node order and maps each op onto a layer of the
// Spec's graph, each layer reading the layers that produce its inputs
// (named only where it does not read the previous layer, so that chains
// import as chains): Gemm, and MatMul followed by Add, become dense layers
// (the weight transposed from ONNX's [out, in] when transB is set), Conv
// becomes conv2d (groups; without a bias input, no_bias; a Pad with zeros
// before it becomes part of its padding), BatchNormalization in inference
// mode becomes batchnorm2d (ONNX's momentum is 1 − ours), MaxPool,
// AveragePool and GlobalAveragePool become the pools (square windows,
// equal strides; padding per side, auto_pad SAME_UPPER, SAME_LOWER and
// VALID resolved from the input's static size, ceil_mode, MaxPool's
// dilations, AveragePool's count_include_pad=0 as exclude_pad), an Add of
// two activations becomes add, Relu (and Clip to [0, ∞)) becomes relu,
// Clip to [0, 6] relu6 and Clip to other bounds clip, and
// Flatten or a Reshape to [batch, features] becomes flatten; Identity and
// Dropout are dropped. The shape arithmetic torch emits around a flatten
// (x.view(x.size(0), -1) becomes Shape, Gather, Unsqueeze, Concat and
// Reshape) is evaluated while reading, with the batch size kept symbolic,
// so that the Reshape can be recognised. Everything the mapping cannot
// express is refused with an error that names the node and its op or
// attribute: the imported model computes exactly the function the ONNX
// graph does, or there is no model.
//
// Encode (and WriteFile) export a model as a plain ONNX graph at opset 13
// to 17 (Gemm, MatMul, Conv, BatchNormalization, the pools, Add, Relu,
// the other activations, Clip, Softmax, Flatten) that ONNX Runtime runs and
// onnx.checker accepts; with ExportOptions.Sparse, zero-heavy weights are
// stored as Constant nodes with a sparse_value (values and INT64
// positions), which onnx.checker's full check accepts (it refuses a
// sparse_initializer read by an op: onnx's shape inference types it as a
// sparse tensor). The protobuf
// types come from github.com/advancedclimatesystems/gonnx/onnx; nothing
// here parses protobuf by hand.
//
// The tests check both directions against independent implementations when
// they are installed: PyTorch (Debian's python3-torch) exports models whose
// logits the imported models must reproduce, onnx.checker (python3-onnx)
// checks the exports, and ONNX Runtime (onnxruntime-node from npm) runs them.
// scripts/onnx holds those helpers.
package interop
