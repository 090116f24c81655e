//go:build !linux

package unlock

import "errors"

// Windows (WTS_SESSION_UNLOCK needs a window registered with
// WTSRegisterSessionNotification) and macOS (com.apple.screenIsUnlocked, a
// distributed notification) are not wired yet: a resume from sleep is still
// noticed (heidiapi.Conns), a plain unlock is not.
func watch(func()) (Watcher, error) {
	return none{}, errors.New("unlock notifications are not implemented on this OS")
}
