//go:build !windows && !darwin

package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"syscall"

	"github.com/heidi-tray/heidi-tray/launcher/logging"
	"github.com/heidi-tray/heidi-tray/launcher/paths"
)

// spawnTray starts 'heidi-tray run' detached from this process, so it
// outlives the EMR's short-lived 'open' call.
func spawnTray(env Env) error {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	cmd := exec.Command(exe, "run")
	cmd.Env = env.Environ
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	// A fatal runtime error cannot be logged by the tray itself: its stderr
	// goes to the log file, so the stack lands there.
	if dir, err := paths.LogDir(); err == nil && os.MkdirAll(dir, 0o700) == nil {
		if f, err := os.OpenFile(filepath.Join(dir, logging.FileName), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600); err == nil {
			defer f.Close()
			cmd.Stderr = f
		}
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	go cmd.Wait() // reap it if it exits while we are still here
	return nil
}
