//go:build linux || freebsd || openbsd || netbsd || dragonfly

package keystore

import (
	"os"
	"path/filepath"
	"strings"
)

// precheck refuses to touch D-Bus when there is no session bus: godbus would
// run dbus-launch and may leave a stray daemon behind.
func precheck() error {
	addr := os.Getenv("DBUS_SESSION_BUS_ADDRESS")
	if addr != "" && addr != "autolaunch:" {
		if p, ok := strings.CutPrefix(addr, "unix:path="); ok {
			if i := strings.IndexByte(p, ','); i >= 0 {
				p = p[:i]
			}
			if _, err := os.Stat(p); err != nil {
				return &UnavailableError{Reason: "DBUS_SESSION_BUS_ADDRESS points at " + p + ", which does not exist (the session bus is gone; log in again)", Err: err}
			}
		}
		return nil
	}
	if rd := os.Getenv("XDG_RUNTIME_DIR"); rd != "" {
		if _, err := os.Stat(filepath.Join(rd, "bus")); err == nil {
			return nil
		}
	}
	return &UnavailableError{Reason: "no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is unset and $XDG_RUNTIME_DIR/bus does not exist); run heidi-tray inside a desktop session"}
}
