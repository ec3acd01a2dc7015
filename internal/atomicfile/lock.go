package atomicfile

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// ErrLocked is the error of Lock when another process holds the lock.
var ErrLocked = errors.New("locked by another process")

// A FileLock is an exclusive lock on the file a process is about to write,
// held through the lock file ".NAME.lock" beside it (beside the target of
// a symbolic link). It lasts until Unlock or the end of the process,
// however the process ends: the system drops the lock of a killed one.
type FileLock struct {
	path   string // the file locked (a link's target)
	lockf  string
	f      *os.File
	closed bool
}

// LockError is the error of Lock when another process holds the lock: Pid
// is that process's (0 when it could not be read).
type LockError struct {
	Path string
	Pid  int
}

func (e *LockError) Error() string {
	if e.Pid > 0 {
		return e.Path + ": " + ErrLocked.Error() + " (pid " + strconv.Itoa(e.Pid) + ")"
	}
	return e.Path + ": " + ErrLocked.Error()
}

// Is makes errors.Is(err, ErrLocked) hold.
func (e *LockError) Is(target error) bool { return target == ErrLocked }

// Lock takes the lock of path without waiting: it fails at once with a
// *LockError when another process holds it, and with the error of creating
// the lock file when the folder cannot be written (a folder that does not
// exist, is read-only or is full), which is also what writing path would
// meet. The lock file holds the locking process's id, and is removed by
// Unlock.
func Lock(path string) (*FileLock, error) {
	target, err := Target(path)
	if err != nil {
		return nil, err
	}
	dir, base := filepath.Split(target)
	lockf := filepath.Join(dir, "."+base+".lock")
	for {
		f, err := os.OpenFile(lockf, os.O_RDWR|os.O_CREATE, 0o644)
		if err != nil {
			return nil, err
		}
		held, err := tryLock(f)
		if err != nil {
			f.Close()
			return nil, &os.PathError{Op: "lock", Path: lockf, Err: err}
		}
		if !held {
			pid := readPid(f)
			f.Close()
			return nil, &LockError{Path: path, Pid: pid}
		}
		// The previous holder removes the lock file when it is done; if it
		// did so after we opened it, our lock is on a file nobody else
		// will open: take the new one.
		fi, err := f.Stat()
		if err != nil {
			f.Close()
			return nil, err
		}
		if now, err := os.Stat(lockf); err == nil && os.SameFile(fi, now) {
			f.Truncate(0)
			f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
			return &FileLock{path: target, lockf: lockf, f: f}, nil
		}
		f.Close()
	}
}

func readPid(f *os.File) int {
	b := make([]byte, 32)
	n, _ := f.ReadAt(b, 0)
	pid, err := strconv.Atoi(strings.TrimSpace(string(b[:n])))
	if err != nil {
		return 0
	}
	return pid
}

// Unlock removes the lock file and drops the lock. A second call does
// nothing.
func (l *FileLock) Unlock() error {
	if l == nil || l.closed {
		return nil
	}
	l.closed = true
	os.Remove(l.lockf) // while still held, so nobody holds the removed file alone
	return l.f.Close()
}

// RemoveStale removes the temporary files that writes of the locked file
// left behind when their process was killed (".NAME.tmpDIGITS" in its
// folder: Write's pattern, and only for this file) and returns their
// names. No write of the file can be running: it is locked, and every
// writer of the file takes the lock first.
func (l *FileLock) RemoveStale() ([]string, error) {
	dir, base := filepath.Split(l.path)
	if dir == "" {
		dir = "."
	}
	pattern := regexp.MustCompile(`^\.` + regexp.QuoteMeta(base) + `\.tmp[0-9]+$`)
	es, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var removed []string
	for _, e := range es {
		if !e.Type().IsRegular() || !pattern.MatchString(e.Name()) {
			continue
		}
		p := filepath.Join(dir, e.Name())
		if err := os.Remove(p); err != nil {
			return removed, err
		}
		removed = append(removed, p)
	}
	return removed, nil
}
