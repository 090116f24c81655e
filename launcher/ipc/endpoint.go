package ipc

import (
	"errors"
	"fmt"
	"net"
	"path/filepath"

	"github.com/heidi-tray/heidi-tray/launcher/paths"
)

// ErrAlreadyRunning: another heidi-tray owns this user's endpoint.
var ErrAlreadyRunning = errors.New("heidi-tray is already running for this user")

// Endpoint names this user's IPC endpoint and instance lock.
type Endpoint struct {
	Path string // socket path (Unix) or pipe name (Windows)
	lock string
}

// DefaultEndpoint is the current user's endpoint.
func DefaultEndpoint() (Endpoint, error) {
	dir, err := paths.RuntimeDir()
	if err != nil {
		return Endpoint{}, fmt.Errorf("preparing the runtime directory: %w", err)
	}
	return Endpoint{Path: endpointPath(dir), lock: filepath.Join(dir, "instance.lock")}, nil
}

// Listen claims the single-instance lock, then the endpoint. The lock makes
// two starting trays safe: the loser gets ErrAlreadyRunning, and a socket
// left by a crashed tray is removed only by the lock's new owner.
func (e Endpoint) Listen() (net.Listener, func(), error) {
	unlock, err := claimInstance(e.lock)
	if err != nil {
		return nil, nil, err
	}
	l, err := listen(e.Path)
	if err != nil {
		unlock()
		return nil, nil, err
	}
	return l, func() { l.Close(); unlock() }, nil
}
