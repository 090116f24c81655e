//go:build !windows

package cli

import (
	"os"
	"os/exec"
	"syscall"
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
	if err := cmd.Start(); err != nil {
		return err
	}
	go cmd.Wait() // reap it if it exits while we are still here
	return nil
}
