// Package unlock tells the tray when the user's session is unlocked, so the
// clinician's token can be fetched before their first launch after a break.
// One tiny API; the OS parts live in their own files.
package unlock

// Watcher reports unlocks until Stop.
type Watcher interface{ Stop() }

// Watch calls onUnlock (in the watcher's goroutine) each time the session
// is unlocked. Where the OS gives no way to learn it, it returns a watcher
// that never calls and an error saying so.
func Watch(onUnlock func()) (Watcher, error) { return watch(onUnlock) }

type none struct{}

func (none) Stop() {}
