package cli

import (
	"context"
	"errors"
	"fmt"
	"time"

	"golang.org/x/sys/windows"
)

// waitExit returns once process pid has exited, or an error after timeout.
func waitExit(ctx context.Context, pid int, timeout time.Duration) error {
	h, err := windows.OpenProcess(windows.SYNCHRONIZE|windows.PROCESS_QUERY_LIMITED_INFORMATION, false, uint32(pid))
	if errors.Is(err, windows.ERROR_INVALID_PARAMETER) {
		return nil // no such process: it has already gone
	}
	if err != nil {
		return fmt.Errorf("opening process %d: %w", pid, err)
	}
	defer windows.CloseHandle(h)
	deadline := time.Now().Add(timeout)
	for {
		// Short slices so that ctx (Ctrl+C) is honoured too.
		ev, err := windows.WaitForSingleObject(h, 100)
		if err != nil {
			return fmt.Errorf("waiting for process %d: %w", pid, err)
		}
		if ev == windows.WAIT_OBJECT_0 {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if time.Now().After(deadline) {
			return errors.New("timed out")
		}
	}
}
