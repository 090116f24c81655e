//go:build !windows

package paths

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// RuntimeDir holds the IPC socket and the instance lock: $XDG_RUNTIME_DIR,
// else a per-user 0700 directory under the temp dir, else (when another
// user got there first: /tmp is shared, and anyone may create
// /tmp/heidi-tray-<uid>) one in the user's own cache directory. The tray and
// its clients pass over the same taken directory, so they still meet.
func RuntimeDir() (string, error) {
	if rd := os.Getenv("XDG_RUNTIME_DIR"); rd != "" {
		dir := filepath.Join(rd, app)
		return dir, EnsurePrivateDir(dir)
	}
	tmp := filepath.Join(os.TempDir(), fmt.Sprintf("%s-%d", app, os.Getuid()))
	err := EnsurePrivateDir(tmp)
	if err == nil {
		return tmp, nil
	}
	cache, cerr := os.UserCacheDir()
	if cerr != nil {
		return "", fmt.Errorf("%w; and no cache directory to fall back on: %v", err, cerr)
	}
	dir := filepath.Join(cache, app, "run")
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
