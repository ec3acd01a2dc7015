package graph

// SetChunkBytes sets the column-matrix budget of Conv2D and returns the
// previous one, for tests outside the package.
func SetChunkBytes(b int) int {
	old := chunkBytes
	chunkBytes = b
	return old
}
