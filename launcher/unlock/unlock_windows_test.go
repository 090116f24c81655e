package unlock

import (
	"os"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/windows"

	"github.com/heidi-tray/heidi-tray/launcher/testrig"
)

var (
	procFindWindowW  = windows.NewLazySystemDLL("user32.dll").NewProc("FindWindowW")
	procPostMessageW = windows.NewLazySystemDLL("user32.dll").NewProc("PostMessageW")
)

func findWindow(t *testing.T) uintptr {
	t.Helper()
	class, _ := windows.UTF16PtrFromString(WindowClass)
	hwnd, _, _ := procFindWindowW.Call(uintptr(unsafe.Pointer(class)), 0)
	return hwnd
}

// Real Windows APIs (under Wine in CI): the watcher's hidden window is
// registered for session changes; an unlock, and a terminal-server session
// reconnected, are reported; a lock, a disconnect and a logoff are not.
// Stop removes the window.
func TestSessionChangesOnTheWindow(t *testing.T) {
	unlocks := make(chan struct{}, 8)
	w, err := Watch(func() { unlocks <- struct{}{} })
	if err != nil && os.Getenv("DISPLAY") == "" {
		// Wine makes windows only on an X display; Windows always can.
		testrig.Missing(t, "an X display for Wine (make windows runs the tests on Xvfb)", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	hwnd := findWindow(t)
	if hwnd == 0 {
		t.Fatalf("no window of class %s", WindowClass)
	}
	for _, c := range []struct {
		name   string
		wParam uintptr
		unlock bool
	}{
		{"lock", 0x7, false},
		{"unlock", wtsSessionUnlock, true},
		{"remote disconnect", 0x4, false},
		{"remote reconnect", wtsRemoteConnect, true},
		{"console connect", wtsConsoleConnect, true},
		{"logoff", 0x6, false},
	} {
		if r, _, err := procPostMessageW.Call(hwnd, wmWTSSessionChange, c.wParam, 1); r == 0 {
			t.Fatalf("PostMessage: %v", err)
		}
		select {
		case <-unlocks:
			if !c.unlock {
				t.Errorf("%s was reported as an unlock", c.name)
			}
		case <-time.After(time.Second): // messages arrive in order, in far less
			if c.unlock {
				t.Errorf("%s was not reported", c.name)
			}
		}
	}
	w.Stop()
	if findWindow(t) != 0 {
		t.Fatal("the window outlived Stop")
	}
}
