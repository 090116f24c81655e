//go:build darwin && !cgo

package clipboard

// A macOS build without cgo (checks only) has no pasteboard access: the
// shipped app is built with cgo (clipboard_darwin.go).
func copyText(string) error { return ErrUnavailable }
