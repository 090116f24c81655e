//go:build !linux

package notify

import "github.com/gen2brain/beeep"

// send: a Windows toast (WinRT, PowerShell fallback) or a macOS notification,
// through beeep.
func send(title, body string) error {
	beeep.AppName = "heidi-tray"
	return beeep.Notify(title, body, "")
}
