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

// watchers: one CoreFoundation observer for the process, however many
// watchers (tests make several). The callback takes only watchers' lock;
// observing and ignoring happen under cfMu, outside it, so the main
// thread's callback never waits on a CoreFoundation call of ours.
var (
	cfMu     sync.Mutex
	watchers struct {
		sync.Mutex
		chans map[chan struct{}]struct{}
	}
)

//export heidiTrayScreenUnlocked
func heidiTrayScreenUnlocked() {
	watchers.Lock()
	defer watchers.Unlock()
	for ch := range watchers.chans {
		select {
		case ch <- struct{}{}:
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
	cfMu.Lock()
	defer cfMu.Unlock()
	watchers.Lock()
	first := len(watchers.chans) == 0
	if watchers.chans == nil {
		watchers.chans = map[chan struct{}]struct{}{}
	}
	watchers.chans[w.ch] = struct{}{}
	watchers.Unlock()
	if first {
		C.heidiTrayObserveUnlock()
	}
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
		cfMu.Lock()
		watchers.Lock()
		delete(watchers.chans, w.ch)
		close(w.ch)
		last := len(watchers.chans) == 0
		watchers.Unlock()
		if last {
			C.heidiTrayIgnoreUnlock()
		}
		cfMu.Unlock()
		<-w.done
	})
}
