//go:build !windows

package ipc

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
)

func endpointPath(runtimeDir string) string { return filepath.Join(runtimeDir, "ipc.sock") }

// listen opens the socket, mode 0600. The caller holds the instance lock, so
// a file already there is a crashed tray's leftover.
func listen(path string) (net.Listener, error) {
	if len(path) > 100 {
		return nil, fmt.Errorf("socket path %s is too long for a Unix socket; set XDG_RUNTIME_DIR to a shorter directory", path)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("removing the stale socket %s: %w", path, err)
	}
	l, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("listening on %s: %w", path, err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		l.Close()
		return nil, fmt.Errorf("restricting %s: %w", path, err)
	}
	l.(*net.UnixListener).SetUnlinkOnClose(true)
	return l, nil
}

// Dial connects to the endpoint at path.
func Dial(ctx context.Context, path string) (net.Conn, error) {
	var d net.Dialer
	return d.DialContext(ctx, "unix", path)
}

// NotRunning reports whether a dial error means no tray is listening.
func NotRunning(err error) bool {
	return errors.Is(err, os.ErrNotExist) || errors.Is(err, errConnRefused)
}
