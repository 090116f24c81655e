//go:build linux || freebsd || openbsd || netbsd

package tray

import "github.com/heidi-tray/heidi-tray/keystore/sessionbus"

// hostMissing says why no tray can be shown, or "". Without a session bus
// the systray library would panic on quit. Without a StatusNotifierWatcher
// the item still starts and registers when a host appears, so that is not
// "missing" here; WatcherMissing tells doctor.
func hostMissing() string {
	conn, err := sessionbus.Connect()
	if err != nil {
		return err.Error()
	}
	conn.Close()
	return ""
}

func watcherMissing() string {
	conn, err := sessionbus.Connect()
	if err != nil {
		return err.Error()
	}
	defer conn.Close()
	if !sessionbus.HasName(conn, "org.kde.StatusNotifierWatcher") {
		return "no system tray host is running (nothing owns org.kde.StatusNotifierWatcher on the session bus); the icon appears when one starts"
	}
	return ""
}
