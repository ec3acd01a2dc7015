//go:build !openblas || !cgo

package graph

// BLASBackend names the implementation of the matrix products: gonum's
// pure Go one, unless the openblas build tag is set.
const BLASBackend = "gonum"
