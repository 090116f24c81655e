package browser

import (
	"os/exec"
	"syscall"
)

// On macOS every browser start goes through LaunchServices (launchservices.go).
func (o *Opener) openApp(u string) error     { return o.openAppLS(u) }
func (o *Opener) openDefault(u string) error { return o.openDefaultLS(u) }

func detach(cmd *exec.Cmd) { cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true} }

func openFolder(dir string) error { return runHelper([]string{OpenTool, dir}) }
