package browser

import (
	"os"
	"os/exec"
	"syscall"
)

// appCommand finds Chrome or Edge for a chromeless --app window.
func (o *Opener) appCommand(u string) (string, []string, bool) {
	for _, p := range []string{
		"/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
		"/Applications/Microsoft Edge.app/Contents/MacOS/Microsoft Edge",
	} {
		if _, err := os.Stat(p); err == nil {
			return p, []string{"--app=" + u}, true
		}
	}
	return "", nil, false
}

func detach(cmd *exec.Cmd) { cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true} }

func openFolder(dir string) error {
	cmd := exec.Command("/usr/bin/open", dir)
	if err := cmd.Start(); err != nil {
		return err
	}
	go cmd.Wait()
	return nil
}
