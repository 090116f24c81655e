package notify

import (
	"os/exec"
	"syscall"
)

func send(title, body string) error { return run(windowsToast(title, body)) }

// hideWindow keeps PowerShell's console from flashing up.
func hideWindow(cmd *exec.Cmd) {
	const createNoWindow = 0x08000000
	cmd.SysProcAttr = &syscall.SysProcAttr{HideWindow: true, CreationFlags: createNoWindow}
}
