//go:build linux || freebsd || openbsd || netbsd || dragonfly

package keystore

import "github.com/heidi-tray/heidi-tray/keystore/sessionbus"

// precheck refuses to touch D-Bus when there is no session bus.
func precheck() error {
	if err := sessionbus.Check(); err != nil {
		return &UnavailableError{Reason: err.Error(), Err: err}
	}
	return nil
}
