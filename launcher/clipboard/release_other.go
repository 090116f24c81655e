//go:build windows || darwin

package clipboard

// Release: the system keeps the clipboard on Windows and macOS; nothing
// of the tray's serves it.
func Release() {}
