package unlock

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"golang.org/x/sys/windows"

	"github.com/heidi-tray/heidi-tray/launcher/internal/hiddenwindow"
)

var (
	wtsapi32                             = windows.NewLazySystemDLL("wtsapi32.dll")
	procWTSRegisterSessionNotification   = wtsapi32.NewProc("WTSRegisterSessionNotification")
	procWTSUnRegisterSessionNotification = wtsapi32.NewProc("WTSUnRegisterSessionNotification")
)

const (
	wmWTSSessionChange   = 0x02B1
	notifyForThisSession = 0
	// wParam of WM_WTSSESSION_CHANGE. On a terminal server a clinician
	// coming back reconnects a session rather than unlocking it.
	wtsConsoleConnect = 0x1
	wtsRemoteConnect  = 0x3
	wtsSessionUnlock  = 0x8
	// Early at logon the Remote Desktop services may not answer yet.
	rpcInvalidBinding = windows.Errno(1702)
)

// WindowClass names the hidden window that receives session changes.
const WindowClass = "heidi-tray-unlock"

type wtsWatcher struct {
	win  *hiddenwindow.Window
	stop chan struct{}
	done chan struct{}
	once sync.Once
}

func watch(onUnlock func()) (Watcher, error) {
	if err := procWTSRegisterSessionNotification.Find(); err != nil {
		return none{}, fmt.Errorf("wtsapi32: %w", err)
	}
	win, err := hiddenwindow.Open(WindowClass, func(msg uint32, wParam, _ uintptr) (uintptr, bool) {
		if msg != wmWTSSessionChange {
			return 0, false
		}
		switch wParam {
		case wtsSessionUnlock, wtsRemoteConnect, wtsConsoleConnect:
			onUnlock()
		}
		return 0, true
	})
	if err != nil {
		return none{}, err
	}
	w := &wtsWatcher{win: win, stop: make(chan struct{}), done: make(chan struct{})}
	err = register(win.HWND())
	if err == nil {
		close(w.done)
		return w, nil
	}
	if !errors.Is(err, rpcInvalidBinding) {
		win.Close()
		return none{}, err
	}
	go w.retry() // owned by Stop
	return w, nil
}

func register(hwnd uintptr) error {
	if r, _, err := procWTSRegisterSessionNotification.Call(hwnd, notifyForThisSession); r == 0 {
		return fmt.Errorf("WTSRegisterSessionNotification: %w", err)
	}
	return nil
}

// retry registers once the session services answer (they start shortly
// after logon, when a Run key may already have started the tray). It does
// not give up: one call per 30 s at most costs nothing.
func (w *wtsWatcher) retry() {
	defer close(w.done)
	for wait := time.Second; ; wait = min(2*wait, 30*time.Second) {
		select {
		case <-w.stop:
			return
		case <-time.After(wait):
			if register(w.win.HWND()) == nil {
				return
			}
		}
	}
}

func (w *wtsWatcher) Stop() {
	w.once.Do(func() {
		close(w.stop)
		<-w.done
		procWTSUnRegisterSessionNotification.Call(w.win.HWND())
		w.win.Close()
	})
}
