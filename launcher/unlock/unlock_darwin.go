//go:build darwin && cgo

package unlock

/*
void heidiTrayObserveUnlock(void);
void heidiTrayIgnoreUnlock(void);
*/
import "C"

import "sync"

// loginwindow posts com.apple.screenIsUnlocked, a distributed notification,
// when the user unlocks the screen (also after sleep and screen saver).
// CoreFoundation delivers it on the main thread's run loop, which the tray's
// menu runs; the callback only hands it to the watcher's goroutine.

var current struct {
	sync.Mutex
	ch chan struct{}
}

//export heidiTrayScreenUnlocked
func heidiTrayScreenUnlocked() {
	current.Lock()
	defer current.Unlock()
	if current.ch != nil {
		select {
		case current.ch <- struct{}{}:
		default: // one pending unlock is enough
		}
	}
}

type cfWatcher struct {
	ch   chan struct{}
	done chan struct{}
	once sync.Once
}

func watch(onUnlock func()) (Watcher, error) {
	w := &cfWatcher{ch: make(chan struct{}, 1), done: make(chan struct{})}
	current.Lock()
	current.ch = w.ch
	current.Unlock()
	C.heidiTrayObserveUnlock()
	go func() { // owned by Stop
		defer close(w.done)
		for range w.ch {
			onUnlock()
		}
	}()
	return w, nil
}

func (w *cfWatcher) Stop() {
	w.once.Do(func() {
		C.heidiTrayIgnoreUnlock()
		current.Lock()
		current.ch = nil
		close(w.ch)
		current.Unlock()
		<-w.done
	})
}
