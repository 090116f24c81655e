package cli

import (
	"log/slog"
	"runtime"
	"sync"
	"unsafe"

	"golang.org/x/sys/windows"
)

// Windows ends a session (logoff, shutdown) and Restart Manager closes
// applications for an installer by sending WM_QUERYENDSESSION and then
// WM_ENDSESSION to every top-level window. The tray answers on a hidden
// window of its own: it signs every Heidi window out before Windows may end
// the process, then stops. Message-only windows do not get these messages.

var (
	user32               = windows.NewLazySystemDLL("user32.dll")
	procRegisterClassExW = user32.NewProc("RegisterClassExW")
	procCreateWindowExW  = user32.NewProc("CreateWindowExW")
	procDefWindowProcW   = user32.NewProc("DefWindowProcW")
	procGetMessageW      = user32.NewProc("GetMessageW")
	procDispatchMessageW = user32.NewProc("DispatchMessageW")
	procPostMessageW     = user32.NewProc("PostMessageW")
	procDestroyWindow    = user32.NewProc("DestroyWindow")
	procPostQuitMessage  = user32.NewProc("PostQuitMessage")

	procRegisterApplicationRestart = windows.NewLazySystemDLL("kernel32.dll").NewProc("RegisterApplicationRestart")
)

const (
	wmDestroy          = 0x0002
	wmClose            = 0x0010
	wmQueryEndSession  = 0x0011
	wmEndSession       = 0x0016
	endSessionCloseApp = 0x00000001 // lParam: Restart Manager closes the app
	// RegisterApplicationRestart: only after an update, not a crash, hang or reboot.
	restartNoCrash, restartNoHang, restartNoReboot = 1, 2, 8
)

type wndClassEx struct {
	size       uint32
	style      uint32
	wndProc    uintptr
	clsExtra   int32
	wndExtra   int32
	instance   windows.Handle
	icon       windows.Handle
	cursor     windows.Handle
	background windows.Handle
	menuName   *uint16
	className  *uint16
	iconSm     windows.Handle
}

type winMsg struct {
	hwnd    uintptr
	message uint32
	wParam  uintptr
	lParam  uintptr
	time    uint32
	pt      struct{ x, y int32 }
	private uint32
}

var sessionEnd struct {
	once    sync.Once
	proc    uintptr
	mu      sync.Mutex
	log     *slog.Logger
	signOut func()
	done    bool
}

func sessionWndProc(hwnd uintptr, msg uint32, wParam, lParam uintptr) uintptr {
	switch msg {
	case wmQueryEndSession:
		return 1 // nothing to save: the session may end
	case wmEndSession:
		if wParam == 0 {
			return 0 // another program cancelled the end
		}
		sessionEnd.mu.Lock()
		log, signOut, done := sessionEnd.log, sessionEnd.signOut, sessionEnd.done
		sessionEnd.done = true
		sessionEnd.mu.Unlock()
		if !done && signOut != nil {
			why := "logoff or shutdown"
			if lParam&endSessionCloseApp != 0 {
				why = "an installer (Restart Manager)"
			}
			log.Info("the Windows session is ending; signing out of Heidi", "by", why)
			signOut() // before returning: Windows may end the process after that
		}
		return 0
	case wmClose:
		procDestroyWindow.Call(hwnd)
		return 0
	case wmDestroy:
		procPostQuitMessage.Call(0)
		return 0
	}
	r, _, _ := procDefWindowProcW.Call(hwnd, uintptr(msg), wParam, lParam)
	return r
}

// onSessionEnd calls signOut when the session ends or Restart Manager
// closes the tray, and asks Restart Manager to start it again after an
// update. The returned function removes the window.
func onSessionEnd(log *slog.Logger, signOut func()) func() {
	if p, err := windows.UTF16PtrFromString("run"); err == nil && procRegisterApplicationRestart.Find() == nil {
		procRegisterApplicationRestart.Call(uintptr(unsafe.Pointer(p)), restartNoCrash|restartNoHang|restartNoReboot)
	}
	sessionEnd.mu.Lock()
	sessionEnd.log, sessionEnd.signOut, sessionEnd.done = log, signOut, false
	sessionEnd.mu.Unlock()
	sessionEnd.once.Do(func() { sessionEnd.proc = windows.NewCallback(sessionWndProc) })

	hwndc := make(chan uintptr, 1)
	done := make(chan struct{})
	go func() { // owned by the returned stop function
		defer close(done)
		runtime.LockOSThread() // a window's messages go to the thread that made it
		defer runtime.UnlockOSThread()
		className, _ := windows.UTF16PtrFromString("heidi-tray-session")
		wc := wndClassEx{wndProc: sessionEnd.proc, className: className}
		wc.size = uint32(unsafe.Sizeof(wc))
		procRegisterClassExW.Call(uintptr(unsafe.Pointer(&wc))) // fails harmlessly when already registered
		title, _ := windows.UTF16PtrFromString("heidi-tray")
		hwnd, _, err := procCreateWindowExW.Call(0, uintptr(unsafe.Pointer(className)), uintptr(unsafe.Pointer(title)),
			0, 0, 0, 0, 0, 0, 0, 0, 0) // a top-level window that is never shown
		hwndc <- hwnd
		if hwnd == 0 {
			log.Warn("no window for session-end messages; logoff will not sign out of Heidi first", "err", err)
			return
		}
		var m winMsg
		for {
			r, _, _ := procGetMessageW.Call(uintptr(unsafe.Pointer(&m)), 0, 0, 0)
			if int32(r) <= 0 {
				return
			}
			procDispatchMessageW.Call(uintptr(unsafe.Pointer(&m)))
		}
	}()
	hwnd := <-hwndc
	return func() {
		if hwnd != 0 {
			procPostMessageW.Call(hwnd, wmClose, 0, 0)
		}
		<-done
	}
}
