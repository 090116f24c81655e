//go:build !windows

package ipc

import (
	"fmt"

	"github.com/gofrs/flock"
)

// claimInstance takes the per-user instance lock (released by the kernel if
// the tray dies).
func claimInstance(path string) (func(), error) {
	lk := flock.New(path)
	ok, err := lk.TryLock()
	if err != nil {
		return nil, fmt.Errorf("taking the instance lock %s: %w", path, err)
	}
	if !ok {
		return nil, ErrAlreadyRunning
	}
	return func() { lk.Unlock() }, nil
}
