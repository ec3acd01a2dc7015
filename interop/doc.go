// Package interop moves models between this toolkit and ONNX.
//
// Decode (and ReadFile) import what torch.onnx.export writes for MLPs,
// CNNs and residual CNNs at opsets 7 to 18. The importer walks the graph
// from its one input in node order and maps each op onto a layer of the
// Spec's graph, each layer reading the layers that produce its inputs
// (named only where it does not read the previous layer, so that chains
// import as chains): Gemm, and MatMul followed by Add, become dense layers
// (the weight transposed from ONNX's [out, in] when transB is set), Conv
// becomes conv2d (groups; without a bias input, no_bias; a Pad with zeros
// before it becomes part of its padding), BatchNormalization in inference
// mode becomes batchnorm2d (ONNX's momentum is 1 − ours), MaxPool,
// AveragePool and GlobalAveragePool become the pools (square windows,
// equal strides, the same padding on every side), an Add of two
// activations becomes add, Relu (and Clip to [0, ∞)) becomes relu, and
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
// Flatten) that ONNX Runtime runs and
// onnx.checker accepts; with ExportOptions.Sparse, zero-heavy weights are
// stored as sparse_initializers (values and INT64 positions). The protobuf
// types come from github.com/advancedclimatesystems/gonnx/onnx; nothing
// here parses protobuf by hand.
//
// The tests check both directions against independent implementations when
// they are installed: PyTorch (Debian's python3-torch) exports models whose
// logits the imported models must reproduce, onnx.checker (python3-onnx)
// checks the exports, and ONNX Runtime (onnxruntime-node from npm) runs them.
// scripts/onnx holds those helpers.
package interop
