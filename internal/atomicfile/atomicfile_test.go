package atomicfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWriteReplacesOrKeeps(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f.txt")
	if err := WriteBytes(path, []byte("one")); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	err := Write(path, func(w io.Writer) error {
		w.Write([]byte("partial"))
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("got %v", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "one" {
		t.Fatalf("previous content lost: %q", b)
	}
	if err := WriteBytes(path, []byte("two")); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); string(b) != "two" {
		t.Fatalf("content %q", b)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("left temporary files: %v", entries)
	}
	if err := WriteBytes(filepath.Join(dir, "missing", "f.txt"), nil); err == nil {
		t.Fatal("write into a missing folder succeeded")
	}
}

func TestWriteRefusesNonRegular(t *testing.T) {
	dir := t.TempDir()
	for _, p := range []string{os.DevNull, dir} {
		if err := WriteBytes(p, []byte("x")); err == nil {
			t.Errorf("%s: no error", p)
		}
	}
	if fi, err := os.Stat(os.DevNull); err != nil || fi.Mode().IsRegular() {
		t.Fatalf("%s was replaced: %v %v", os.DevNull, fi, err)
	}
}

// TestWriteThroughLink: writing a symbolic link replaces the file it
// points to (relative and absolute links, a chain of two, a link to a file
// not there yet) and leaves the link a link.
func TestWriteThroughLink(t *testing.T) {
	dir := t.TempDir()
	sub := filepath.Join(dir, "sub")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(sub, "target.txt")
	if err := os.WriteFile(target, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	abs := filepath.Join(dir, "abs.txt")
	rel := filepath.Join(dir, "rel.txt")
	chain := filepath.Join(dir, "chain.txt")
	dangling := filepath.Join(dir, "dangling.txt")
	for link, to := range map[string]string{abs: target, rel: "sub/target.txt", chain: "rel.txt", dangling: "sub/new.txt"} {
		if err := os.Symlink(to, link); err != nil {
			t.Fatal(err)
		}
	}
	for _, link := range []string{abs, rel, chain} {
		want := "via " + filepath.Base(link)
		if err := WriteBytes(link, []byte(want)); err != nil {
			t.Fatalf("%s: %v", link, err)
		}
		if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
			t.Errorf("%s is no longer a link (%v)", link, err)
		}
		if b, _ := os.ReadFile(target); string(b) != want {
			t.Errorf("%s: target holds %q, want %q", link, b, want)
		}
		if fi, err := os.Stat(target); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("target's permissions not kept: %v %v", fi, err)
		}
	}
	if err := WriteBytes(dangling, []byte("new")); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(sub, "new.txt")); string(b) != "new" {
		t.Errorf("link to a missing file: target holds %q", b)
	}
	if fi, err := os.Lstat(dangling); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("%s is no longer a link (%v)", dangling, err)
	}
	loop := filepath.Join(dir, "loop.txt")
	if err := os.Symlink("loop.txt", loop); err != nil {
		t.Fatal(err)
	}
	if err := WriteBytes(loop, nil); err == nil {
		t.Error("a link to itself was written")
	}
	for _, d := range []string{dir, sub} {
		es, _ := os.ReadDir(d)
		for _, e := range es {
			if strings.Contains(e.Name(), ".tmp") {
				t.Errorf("temporary file left: %s", e.Name())
			}
		}
	}
}
