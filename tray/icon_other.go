//go:build !windows

package tray

func platformIcon(png []byte) []byte { return png }
