package notify

import "os/exec"

// send: from heidi-tray.app itself (UserNotifications, notify_darwin_cgo.go)
// when this is the app bundle; otherwise — a bare developer binary, or a
// build without cgo — through osascript, where macOS shows the notification
// as Script Editor's.
func send(title, body string) error {
	if posted, err := appNotification(clip(title), clip(body)); posted {
		return err
	}
	return run(macNotification(title, body))
}

func hideWindow(*exec.Cmd) {}
