//go:build linux || freebsd || openbsd || netbsd || dragonfly

// Package sessionbus answers one question for every D-Bus client in
// heidi-tray (the keychain, the tray icon, notifications, doctor): is there
// a session bus to talk to? It never lets godbus autolaunch one: that would
// run dbus-launch and may leave a stray daemon behind.
package sessionbus

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/godbus/dbus/v5"
)

// Check returns nil when a session bus can be used, or an error whose text
// says what is missing.
func Check() error {
	addr := os.Getenv("DBUS_SESSION_BUS_ADDRESS")
	if addr != "" && addr != "autolaunch:" {
		if p, ok := strings.CutPrefix(addr, "unix:path="); ok {
			if i := strings.IndexByte(p, ','); i >= 0 {
				p = p[:i]
			}
			if _, err := os.Stat(p); err != nil {
				return fmt.Errorf("DBUS_SESSION_BUS_ADDRESS points at %s, which does not exist (the session bus is gone; log in again): %w", p, err)
			}
		}
		return nil
	}
	if rd := os.Getenv("XDG_RUNTIME_DIR"); rd != "" {
		if _, err := os.Stat(filepath.Join(rd, "bus")); err == nil {
			return nil
		}
	}
	return errors.New("no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is unset and $XDG_RUNTIME_DIR/bus does not exist); run heidi-tray inside a desktop session")
}

// Connect opens a private, authenticated connection to the session bus
// after Check; the caller closes it.
func Connect() (*dbus.Conn, error) {
	if err := Check(); err != nil {
		return nil, err
	}
	conn, err := dbus.SessionBusPrivateNoAutoStartup()
	if err != nil {
		return nil, fmt.Errorf("cannot connect to the D-Bus session bus: %w", err)
	}
	if err := conn.Auth(nil); err != nil {
		conn.Close()
		return nil, fmt.Errorf("cannot authenticate to the D-Bus session bus: %w", err)
	}
	if err := conn.Hello(); err != nil {
		conn.Close()
		return nil, fmt.Errorf("the D-Bus session bus did not answer: %w", err)
	}
	return conn, nil
}

// HasName reports whether a well-known name (a service) is on the bus.
func HasName(conn *dbus.Conn, name string) bool {
	var owner string
	return conn.BusObject().Call("org.freedesktop.DBus.GetNameOwner", 0, name).Store(&owner) == nil && owner != ""
}
