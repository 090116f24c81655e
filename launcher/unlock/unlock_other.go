//go:build !linux && !windows && !(darwin && cgo)

package unlock

import "errors"

// A macOS build without cgo cannot observe distributed notifications; a
// resume from sleep is still noticed (heidiapi.Conns), a plain unlock is not.
func watch(func()) (Watcher, error) {
	return none{}, errors.New("unlock notifications need a cgo build on this OS")
}
