// Package atomicfile writes files so that a reader sees either the old
// content or the new one, never a partial file, and locks the files a
// process is about to write (Lock), so that two processes never write the
// same one.
//
// A write goes to a temporary file ".NAME.tmpDIGITS" beside the file,
// renamed over it at the end; a process killed in between leaves that
// temporary file behind, and FileLock.RemoveStale removes it once the file
// is locked again. A symbolic link is written through: the file it points
// to is replaced and the link stays.
package atomicfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
)

// maxLinks bounds the chain of symbolic links Target follows.
const maxLinks = 40

// Target returns the file that writing path replaces: path itself, or,
// when path is a symbolic link, the file at the end of its chain of links
// (which need not exist yet). Relative links are read from the folder of
// the link.
func Target(path string) (string, error) {
	for i := 0; ; i++ {
		fi, err := os.Lstat(path)
		if err != nil || fi.Mode()&os.ModeSymlink == 0 {
			return path, nil // not there yet, or not a link: the file itself
		}
		if i == maxLinks {
			return "", &os.PathError{Op: "write", Path: path, Err: errTooManyLinks}
		}
		to, err := os.Readlink(path)
		if err != nil {
			return "", err
		}
		if !filepath.IsAbs(to) {
			to = filepath.Join(filepath.Dir(path), to)
		}
		path = to
	}
}

// Write calls write with a temporary file in the folder of path, syncs and
// closes it, and renames it over path, keeping the permissions of a file it
// replaces (0644 for a new one). On any failure the temporary file is
// removed and a previous file at path is left untouched. A path that exists
// and is not a regular file (a device such as /dev/null, a folder, a pipe)
// is refused: renaming over it would replace it. A symbolic link is written
// through (see Target): the temporary file is made in the folder of the
// link's target and renamed over the target, and the link stays a link.
func Write(path string, write func(io.Writer) error) (err error) {
	if path, err = Target(path); err != nil {
		return err
	}
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

var (
	errNotRegular   = errors.New("exists and is not a regular file")
	errTooManyLinks = errors.New("too many levels of symbolic links")
)
