//go:build !windows && !darwin

package browser

import (
	"os/exec"
	"syscall"
)

// appCommand finds a Chromium-family browser for a chromeless --app window.
func (o *Opener) appCommand(u string) (string, []string, bool) {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "microsoft-edge"} {
		if p, err := o.find(name); err == nil {
			return p, []string{"--app=" + u}, true
		}
	}
	return "", nil, false
}

// detach puts the browser in its own session so it outlives a tray restart.
func detach(cmd *exec.Cmd) { cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true} }

func openFolder(dir string) error {
	cmd := exec.Command("xdg-open", dir)
	detach(cmd)
	if err := cmd.Start(); err != nil {
		return err
	}
	go cmd.Wait()
	return nil
}
