//go:build !windows

package paths

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// RuntimeDir holds the IPC socket and the instance lock: $XDG_RUNTIME_DIR,
// else a per-user 0700 directory under the temp dir.
func RuntimeDir() (string, error) {
	var dir string
	if rd := os.Getenv("XDG_RUNTIME_DIR"); rd != "" {
		dir = filepath.Join(rd, app)
	} else {
		dir = filepath.Join(os.TempDir(), fmt.Sprintf("%s-%d", app, os.Getuid()))
	}
	return dir, EnsurePrivateDir(dir)
}

// checkPrivate refuses a directory someone else owns or can enter: under a
// shared temp dir another user could have created it first.
func checkPrivate(dir string) error {
	fi, err := os.Lstat(dir)
	if err != nil {
		return err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !fi.IsDir() || !ok {
		return fmt.Errorf("%s is not a directory", dir)
	}
	if int(st.Uid) != os.Getuid() {
		return fmt.Errorf("%s belongs to another user (uid %d); remove it or set XDG_RUNTIME_DIR", dir, st.Uid)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		if err := os.Chmod(dir, 0o700); err != nil {
			return fmt.Errorf("%s is open to other users and cannot be fixed: %w", dir, err)
		}
	}
	return nil
}
