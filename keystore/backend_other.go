//go:build !darwin || !cgo

package keystore

// osBackend: go-keyring. (A macOS build without cgo — checks only — falls
// back to it too: its items go through /usr/bin/security.)
func osBackend() Backend { return goKeyring{} }
