//go:build !(linux || freebsd || openbsd || netbsd) && (cgo || !darwin)

package tray

// hostMissing: Windows and macOS always have a tray.
func hostMissing() string { return "" }

// watcherMissing: Windows and macOS always have a tray host.
func watcherMissing() string { return "" }
