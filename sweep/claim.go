package sweep

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"syscall"

	pkgerrors "github.com/pkg/errors"

	"github.com/spred-go/spred/internal/atomicfile"
)

// file is a file a point writes, with what it is (for messages).
type file struct{ what, name string }

// claim takes the lock of each file (atomicfile.Lock) for the run of a
// point, refusing one that exists and is not a regular file, and removes
// the temporary files that killed runs left behind for it: a second run
// of the same point fails at once, naming the file. release drops the
// locks; it is never nil.
func claim(files ...file) (release func(), err error) {
	var locks []*atomicfile.FileLock
	release = func() {
		for _, l := range locks {
			l.Unlock()
		}
		locks = nil
	}
	for _, f := range files {
		if st, err := os.Stat(f.name); err == nil && !st.Mode().IsRegular() {
			return release, pkgerrors.Errorf("%s: cannot write %s: not a regular file", f.what, f.name)
		}
		l, err := atomicfile.Lock(f.name)
		if err != nil {
			release()
			return release, lockError(f, err)
		}
		locks = append(locks, l)
		if _, err := l.RemoveStale(); err != nil {
			release()
			return release, pkgerrors.Wrapf(err, "%s %s: remove the temporary files of killed runs", f.what, f.name)
		}
	}
	return release, nil
}

// lockError says why f could not be locked.
func lockError(f file, err error) error {
	var le *atomicfile.LockError
	if errors.As(err, &le) {
		who := "another spred run"
		if le.Pid > 0 {
			who = "another spred run (pid " + strconv.Itoa(le.Pid) + ")"
		}
		return pkgerrors.Errorf("%s %s is being written by %s: wait for it to end", f.what, f.name, who)
	}
	if errors.Is(err, fs.ErrPermission) || errors.Is(err, syscall.EROFS) {
		return pkgerrors.Errorf("cannot write %s %s: folder %s is not writable", f.what, f.name, filepath.Dir(f.name))
	}
	return pkgerrors.Wrapf(err, "cannot write %s %s", f.what, f.name)
}
