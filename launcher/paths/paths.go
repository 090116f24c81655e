// Package paths says where heidi-tray keeps its files for the current user.
// Nothing here holds a secret: keys live in the keychain, tokens in memory.
package paths

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
)

const app = "heidi-tray"

// ConfigFile is the user's settings file (HEIDI_TRAY_CONFIG overrides).
func ConfigFile() (string, error) {
	if p := os.Getenv("HEIDI_TRAY_CONFIG"); p != "" {
		return p, nil
	}
	d, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("finding the config directory: %w", err)
	}
	return filepath.Join(d, app, "config.toml"), nil
}

// StateDir holds remembered state (the page port, sessions, the outbox).
func StateDir() (string, error) {
	var base string
	switch runtime.GOOS {
	case "windows":
		base = os.Getenv("LOCALAPPDATA")
	case "darwin":
		d, err := os.UserConfigDir() // ~/Library/Application Support
		if err != nil {
			return "", err
		}
		base = d
	default:
		base = XDGHome("XDG_STATE_HOME", ".local", "state")
	}
	if base == "" {
		return "", errors.New("cannot find a directory for heidi-tray's state")
	}
	return filepath.Join(base, app), nil
}

// XDGHome is an XDG base directory: the variable when it is set to an
// absolute path (the spec ignores relative ones), else the fallback under
// the home directory; "" when there is no home either.
func XDGHome(variable string, fallback ...string) string {
	if d := os.Getenv(variable); filepath.IsAbs(d) {
		return d
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return ""
	}
	return filepath.Join(append([]string{home}, fallback...)...)
}

// LogDir is where the log file goes.
func LogDir() (string, error) {
	if runtime.GOOS == "windows" {
		s, err := StateDir() // %LocalAppData%\heidi-tray
		return filepath.Join(s, "logs"), err
	}
	if runtime.GOOS == "darwin" {
		// ~/Library/Logs: where Console.app looks, and not purged like Caches.
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("finding the home directory: %w", err)
		}
		return filepath.Join(home, "Library", "Logs", app), nil
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("finding the cache directory: %w", err)
	}
	return filepath.Join(d, app, "logs"), nil
}

// EnsurePrivateDir creates dir (and parents) and makes sure it is a directory
// only this user can enter.
func EnsurePrivateDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("creating %s: %w", dir, err)
	}
	return checkPrivate(dir)
}
