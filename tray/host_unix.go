//go:build linux || freebsd || openbsd || netbsd

package tray

import (
	"os"
	"path/filepath"

	"github.com/godbus/dbus/v5"
)

// hostMissing says why no tray can be shown, or "". Without a session bus
// the systray library would panic on quit; without a StatusNotifierWatcher
// the item waits and registers when a host appears.
func hostMissing() string {
	addr := os.Getenv("DBUS_SESSION_BUS_ADDRESS")
	if addr == "" || addr == "autolaunch:" {
		rd := os.Getenv("XDG_RUNTIME_DIR")
		if rd == "" {
			return "no D-Bus session bus"
		}
		if _, err := os.Stat(filepath.Join(rd, "bus")); err != nil {
			return "no D-Bus session bus"
		}
	}
	conn, err := dbus.SessionBusPrivateNoAutoStartup()
	if err != nil {
		return "cannot connect to the D-Bus session bus: " + err.Error()
	}
	defer conn.Close()
	if err := conn.Auth(nil); err != nil {
		return "cannot authenticate to the D-Bus session bus: " + err.Error()
	}
	if err := conn.Hello(); err != nil {
		return "the D-Bus session bus did not answer: " + err.Error()
	}
	return ""
}
