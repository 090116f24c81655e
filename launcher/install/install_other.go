//go:build !linux && !windows

package install

import (
	"errors"
	"runtime"
)

var errPlatform = errors.New("install/uninstall for " + runtime.GOOS + " is not built yet (the MSI or the app bundle registers heidi-tray there)")

// Install registers the URL handler and, with autostart, start at login for exe.
func Install(exe string, autostart bool) (Report, error) { return nil, errPlatform }

// Uninstall removes every registration.
func Uninstall() (Report, error) { return nil, errPlatform }

// Registered reports whether heidi-tray is the scheme's handler.
func Registered() bool { return false }

// AutostartEnabled reports whether start at login is set up.
func AutostartEnabled() bool { return false }

// SetAutostart turns start at login on or off.
func SetAutostart(exe string, enable bool) (Report, error) { return nil, errPlatform }
