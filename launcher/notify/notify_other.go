//go:build !linux

package notify

import "errors"

// send: Windows toasts and macOS notifications arrive with their platform
// issues; until then the message is in the log and the tray's status line.
func send(title, body string) error {
	return errors.New("notifications are not implemented on this platform yet")
}
