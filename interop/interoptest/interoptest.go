// Package interoptest finds the independent tools the interop tests check
// against: Debian's python3-torch and python3-onnx under /usr/bin/python3,
// and ONNX Runtime from npm (onnxruntime-node, installed into scripts/onnx
// by .ci/run). A test that needs a missing tool is skipped with a message
// naming it and how to install it, unless SPRED_REQUIRE_INTEROP=1, which
// makes it fail instead (CI sets it, so that CI never skips these checks).
package interoptest

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// Python is the interpreter the Debian packages install into.
const Python = "/usr/bin/python3"

// RequireEnv is the environment variable that turns skips into failures.
const RequireEnv = "SPRED_REQUIRE_INTEROP"

var (
	mu     sync.Mutex
	probes = map[string]error{}
)

// probe runs check once per process and key.
func probe(key string, check func() error) error {
	mu.Lock()
	defer mu.Unlock()
	if err, ok := probes[key]; ok {
		return err
	}
	err := check()
	probes[key] = err
	return err
}

// missing skips t, or fails it when SPRED_REQUIRE_INTEROP=1.
func missing(t testing.TB, what, install string, err error) {
	t.Helper()
	if os.Getenv(RequireEnv) == "1" {
		t.Fatalf("%s is required (%s=1) but not usable: %v; install it with: %s", what, RequireEnv, err, install)
	}
	t.Skipf("SKIP: %s not usable (%v): install it with `%s` to run this check", what, err, install)
}

// PythonWith returns the Python interpreter after checking that it imports
// every module (for example "torch", "onnx").
func PythonWith(t testing.TB, modules ...string) string {
	t.Helper()
	for _, mod := range modules {
		err := probe("python:"+mod, func() error {
			out, err := exec.Command(Python, "-c", "import "+mod).CombinedOutput()
			if err != nil {
				return errorWithOutput(err, out)
			}
			return nil
		})
		if err != nil {
			missing(t, "Python module "+mod, "apt-get install -y python3-"+mod, err)
		}
	}
	return Python
}

// Scripts returns the repository's scripts/onnx folder.
func Scripts(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "scripts", "onnx")
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's folder")
		}
		dir = parent
	}
}

// Node returns the node binary after checking that it loads
// onnxruntime-node from scripts/onnx.
func Node(t testing.TB) string {
	t.Helper()
	scripts := Scripts(t)
	node, err := exec.LookPath("node")
	if err == nil {
		err = probe("node:onnxruntime", func() error {
			cmd := exec.Command(node, "-e", "require('onnxruntime-node')")
			cmd.Dir = scripts
			if out, err := cmd.CombinedOutput(); err != nil {
				return errorWithOutput(err, out)
			}
			return nil
		})
	}
	if err != nil {
		missing(t, "ONNX Runtime for Node.js", "apt-get install -y nodejs npm && cd scripts/onnx && ONNXRUNTIME_NODE_INSTALL=skip npm ci", err)
	}
	return node
}

// RunJSON runs a command and decodes its standard output as JSON into v.
func RunJSON(t testing.TB, v interface{}, name string, args ...string) {
	t.Helper()
	cmd := exec.Command(name, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", filepath.Base(name), args, err, stderr.Bytes())
	}
	if err := json.Unmarshal(out, v); err != nil {
		t.Fatalf("%s %v: output is not JSON (%v): %.300s", filepath.Base(name), args, err, out)
	}
}

// Run runs a command and fails the test with its output if it fails.
func Run(t testing.TB, name string, args ...string) {
	t.Helper()
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %v: %v\n%s", filepath.Base(name), args, err, out)
	}
}

type outputError struct {
	err error
	out []byte
}

func (e outputError) Error() string {
	out := bytes.TrimSpace(e.out)
	if i := bytes.LastIndexByte(out, '\n'); i >= 0 {
		out = out[i+1:]
	}
	return e.err.Error() + ": " + string(out)
}

func errorWithOutput(err error, out []byte) error { return outputError{err, out} }
