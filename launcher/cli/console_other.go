//go:build !windows

package cli

// AttachConsole: only Windows GUI-subsystem builds need one.
func AttachConsole() {}
