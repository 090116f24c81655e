//go:build !(linux || freebsd || openbsd || netbsd || dragonfly)

package keystore

// precheck: macOS and Windows keychains need no session bus.
func precheck() error { return nil }
