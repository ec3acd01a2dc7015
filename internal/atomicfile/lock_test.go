package atomicfile

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestLockExcludes(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.bin")
	l, err := Lock(path)
	if err != nil {
		t.Fatal(err)
	}
	// flock excludes another open file of the same process too.
	_, err = Lock(path)
	var le *LockError
	if !errors.Is(err, ErrLocked) || !errors.As(err, &le) || le.Pid != os.Getpid() || le.Path != path {
		t.Fatalf("second lock: %v, want ErrLocked naming pid %d", err, os.Getpid())
	}
	// Through a link: the same lock.
	link := filepath.Join(dir, "link.bin")
	if err := os.Symlink("out.bin", link); err != nil {
		t.Fatal(err)
	}
	if _, err := Lock(link); !errors.Is(err, ErrLocked) {
		t.Fatalf("lock through a link: %v, want ErrLocked", err)
	}
	if err := l.Unlock(); err != nil {
		t.Fatal(err)
	}
	if err := l.Unlock(); err != nil {
		t.Fatal("second unlock:", err)
	}
	if es, _ := os.ReadDir(dir); len(es) != 1 {
		t.Errorf("lock file left: %v", es)
	}
	l2, err := Lock(path)
	if err != nil {
		t.Fatal("lock after unlock:", err)
	}
	l2.Unlock()
	if _, err := Lock(filepath.Join(dir, "missing", "out.bin")); err == nil {
		t.Error("locked a file in a missing folder")
	}
}

func TestRemoveStale(t *testing.T) {
	dir := t.TempDir()
	names := []string{".f.txt.tmp123", ".f.txt.tmp9", ".f.txt.tmpabc", ".g.txt.tmp1", "f.txt.tmp1", ".f.txt.tmp", "f.txt", ".xf.txt.tmp1"}
	for _, n := range names {
		if err := os.WriteFile(filepath.Join(dir, n), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	l, err := Lock(filepath.Join(dir, "f.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Unlock()
	removed, err := l.RemoveStale()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{filepath.Join(dir, ".f.txt.tmp123"), filepath.Join(dir, ".f.txt.tmp9")}
	slices.Sort(removed)
	if !slices.Equal(removed, want) {
		t.Errorf("removed %v, want %v", removed, want)
	}
	for _, n := range names[2:] {
		if _, err := os.Stat(filepath.Join(dir, n)); err != nil {
			t.Errorf("%s removed", n)
		}
	}
}
