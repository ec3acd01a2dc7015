// Package atomicfile writes files so that a reader sees either the old
// content or the new one, never a partial file.
package atomicfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
)

// Write calls write with a temporary file in the folder of path, syncs and
// closes it, and renames it over path, keeping the permissions of a file it
// replaces (0644 for a new one). On any failure the temporary file is
// removed and a previous file at path is left untouched. A path that exists
// and is not a regular file (a device such as /dev/null, a folder, a pipe)
// is refused: renaming over it would replace it.
func Write(path string, write func(io.Writer) error) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	perm := os.FileMode(0o644)
	if fi, err := os.Stat(path); err == nil {
		if !fi.Mode().IsRegular() {
			return &os.PathError{Op: "write", Path: path, Err: errNotRegular}
		}
		perm = fi.Mode().Perm()
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close() // may already be closed; the error is irrelevant
			os.Remove(tmp)
		}
	}()
	if err := f.Chmod(perm); err != nil {
		return err
	}
	if err := write(f); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync() // best effort: not every platform can sync a directory
		d.Close()
	}
	return nil
}

// WriteBytes atomically replaces path with b.
func WriteBytes(path string, b []byte) error {
	return Write(path, func(w io.Writer) error {
		_, err := w.Write(b)
		return err
	})
}

var errNotRegular = errors.New("exists and is not a regular file")
