package main

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	pkgerrors "github.com/pkg/errors"

	"github.com/spred-go/spred/internal/atomicfile"
)

// claimOutputs makes sure, before any work, that a command can write its
// outputs and that no other run writes them meanwhile. It checks the paths
// (checkPaths: no output is an input or another output, every folder
// exists), refuses an output that exists and is not a regular file, then
// takes each output's lock (atomicfile.Lock) for the rest of the run: a
// second run with the same output fails at once, naming it, and a folder
// that cannot be written is found here rather than after the training. It
// then removes the temporary files that runs killed while writing these
// outputs left behind. release drops the locks; it is never nil.
func claimOutputs(inputs []path, outputs ...path) (release func(), err error) {
	var locks []*atomicfile.FileLock
	release = func() {
		for _, l := range locks {
			l.Unlock()
		}
		locks = nil
	}
	if err := checkPaths(inputs, outputs...); err != nil {
		return release, err
	}
	for _, o := range outputs {
		if o.name == "" {
			continue
		}
		if st, err := os.Stat(o.name); err == nil && !st.Mode().IsRegular() {
			return release, pkgerrors.Errorf("%s: cannot write %s: not a regular file", o.flag, o.name)
		}
		l, err := atomicfile.Lock(o.name)
		if err != nil {
			release()
			return release, lockError(o, err)
		}
		locks = append(locks, l)
		if _, err := l.RemoveStale(); err != nil {
			release()
			return release, pkgerrors.Wrapf(err, "%s %s: remove the temporary files of killed runs", o.flag, o.name)
		}
	}
	return release, nil
}

// lockError says why the output o could not be locked.
func lockError(o path, err error) error {
	var le *atomicfile.LockError
	if errors.As(err, &le) {
		who := "another spred run"
		if le.Pid > 0 {
			who = "another spred run (pid " + strconv.Itoa(le.Pid) + ")"
		}
		if !strings.HasPrefix(o.flag, "--") { // a file a command names itself (a sweep point's)
			return pkgerrors.Errorf("%s %s is being written by %s: wait for it to end", o.flag, o.name, who)
		}
		return pkgerrors.Errorf("%s %s is being written by %s: wait for it to end or choose another %s", o.flag, o.name, who, o.flag)
	}
	dir := filepath.Dir(o.name)
	if errors.Is(err, fs.ErrPermission) || errors.Is(err, syscall.EROFS) {
		return pkgerrors.Errorf("cannot write %s %s: folder %s is not writable", o.flag, o.name, dir)
	}
	return pkgerrors.Wrapf(err, "cannot write %s %s", o.flag, o.name)
}

// checkNoCheckpoint refuses to start a run afresh over the checkpoint of
// an earlier one (which the new run would overwrite after its first
// epoch) unless --force says so.
func checkNoCheckpoint(flag, ckPath string, resume, force bool) error {
	if resume || force {
		return nil
	}
	if fileExists(ckPath) {
		return pkgerrors.Errorf("%s %s holds the checkpoint of an earlier run: pass --resume to continue it or --force to start over", flag, ckPath)
	}
	return nil
}

// fileExists reports whether something (a file, a link, even a broken one)
// is at path: what checkNoCheckpoint refuses without --resume or --force.
func fileExists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}
