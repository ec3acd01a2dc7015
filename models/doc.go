// Package models describes neural networks as plain data: an architecture
// Spec (a list of layers, serialisable as JSON) and an ordered set of named
// parameters ("fc1/W", "fc1/b", "conv1/W", ...) each marked prunable or not.
//
// Nothing here knows about Gorgonia graphs or compression: package graph
// builds graphs that bind to a model's parameters, and package compress
// rewrites the prunable ones. Parameters therefore live outside every graph,
// so a training graph and an evaluation graph of another batch size share the
// same values.
//
// A model is stored as one self-describing safetensors file: every parameter
// is an F32 tensor under its name, and the header's __metadata__ carries the
// spec and the provenance (tool version, seed, data, accuracy). See
// WriteFile and ReadFile.
//
// The zoo (Zoo, Lookup) holds the reference architectures: LeNet-300-100
// (266,610 parameters) and the Caffe LeNet-5 (431,080 parameters).
package models
