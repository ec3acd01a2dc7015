package main

import (
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"testing"

	"github.com/pkg/errors"
)

// memoryCapEnv, when set in the environment of a child spred process,
// caps its address space at that many bytes (see capMemory).
const memoryCapEnv = "SPRED_TEST_MEMORY_CAP"

// capMemory sets RLIMIT_AS, as ulimit -v does, to the bytes in s; an empty s
// sets nothing.
func capMemory(s string) error {
	if s == "" {
		return nil
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return errors.Wrapf(err, "%s=%q", memoryCapEnv, s)
	}
	lim := syscall.Rlimit{Cur: n, Max: n}
	return errors.Wrap(syscall.Setrlimit(syscall.RLIMIT_AS, &lim), "cap the address space")
}

// TestMemoryCapApplies checks that the cap TestBadInput's children run under
// is real: under badInputMemoryCap a child can allocate 1 GiB but not 4.
func TestMemoryCapApplies(t *testing.T) {
	for _, c := range []struct {
		bytes int
		fail  bool
	}{{1 << 30, false}, {4 << 30, true}} {
		cmd := exec.Command(os.Args[0])
		cmd.Env = append(os.Environ(), "SPRED_RUN_MAIN=1", memoryCapEnv+"="+strconv.Itoa(badInputMemoryCap), allocateEnv+"="+strconv.Itoa(c.bytes))
		out, err := cmd.CombinedOutput()
		if failed := err != nil; failed != c.fail {
			t.Errorf("allocating %d bytes under a %d-byte cap: error %v, want failure %v\n%.300s", c.bytes, badInputMemoryCap, err, c.fail, out)
		}
	}
}

// allocateEnv, set to a number of bytes in a child's environment, makes
// the child allocate and touch that many bytes and exit (see TestMain).
const allocateEnv = "SPRED_TEST_ALLOCATE"

// allocate allocates and touches the bytes in s.
func allocate(s string) error {
	n, err := strconv.Atoi(s)
	if err != nil {
		return errors.Wrapf(err, "%s=%q", allocateEnv, s)
	}
	b := make([]byte, n)
	for i := 0; i < n; i += 4096 {
		b[i] = 1
	}
	return nil
}
