//go:build !linux

package main

// memoryCapEnv names the memory cap of a child spred process; only Linux
// applies it.
const memoryCapEnv = "SPRED_TEST_MEMORY_CAP"

// allocateEnv names a child's test allocation (see the Linux file).
const allocateEnv = "SPRED_TEST_ALLOCATE"

// allocate is used only on Linux.
func allocate(string) error { return nil }

// capMemory does nothing outside Linux.
func capMemory(string) error { return nil }
