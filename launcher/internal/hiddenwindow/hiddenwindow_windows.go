package hiddenwindow

import (
	"fmt"
	"runtime"
	"sync"
	"unsafe"

	"golang.org/x/sys/windows"
)

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
)

const (
	wmDestroy = 0x0002
	wmClose   = 0x0010
	// wmRemove is Close's own message. WM_CLOSE comes from outside
	// (taskkill without /F posts it to every top-level window): it goes to
	// the handler, and is ignored unless the handler takes it.
	wmRemove = 0x8000 + 0x48 // WM_APP + 'H'
)

// Handler answers one message. handled=false passes it to DefWindowProc.
// It runs on the window's thread: it must not block for long.
type Handler func(msg uint32, wParam, lParam uintptr) (result uintptr, handled bool)

// Window is a hidden top-level window. Close removes it and ends its thread.
type Window struct {
	hwnd uintptr
	done chan struct{}
	once sync.Once
}

// One window procedure for every class: Go callbacks are a limited,
// never-freed resource, so it is made once and finds the handler by hwnd.
// Messages sent while CreateWindowEx runs (before the hwnd is known) go to
// DefWindowProc; none of them matter here.
var (
	wndProcOnce sync.Once
	wndProc     uintptr
	handlers    sync.Map // hwnd -> Handler
	removing    sync.Map // hwnd -> struct{}: Close asked (wmRemove from anyone else is ignored)
)

func dispatch(hwnd uintptr, msg uint32, wParam, lParam uintptr) uintptr {
	switch msg {
	case wmRemove:
		if _, ok := removing.LoadAndDelete(hwnd); ok {
			procDestroyWindow.Call(hwnd)
		}
		return 0
	case wmDestroy:
		handlers.Delete(hwnd)
		procPostQuitMessage.Call(0)
		return 0
	}
	if h, ok := handlers.Load(hwnd); ok {
		if r, handled := h.(Handler)(msg, wParam, lParam); handled {
			return r
		}
	}
	if msg == wmClose {
		return 0 // DefWindowProc would destroy the window
	}
	r, _, _ := procDefWindowProcW.Call(hwnd, uintptr(msg), wParam, lParam)
	return r
}

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

// Open makes a hidden window of the given class (its name is how tests and
// tools find it) whose messages h answers.
func Open(class string, h Handler) (*Window, error) {
	wndProcOnce.Do(func() { wndProc = windows.NewCallback(dispatch) })
	className, err := windows.UTF16PtrFromString(class)
	if err != nil {
		return nil, err
	}
	type created struct {
		hwnd uintptr
		err  error
	}
	ready := make(chan created, 1)
	w := &Window{done: make(chan struct{})}
	go func() { // owned by Close
		defer close(w.done)
		runtime.LockOSThread() // a window's messages go to the thread that made it
		defer runtime.UnlockOSThread()
		wc := wndClassEx{wndProc: wndProc, className: className}
		wc.size = uint32(unsafe.Sizeof(wc))
		procRegisterClassExW.Call(uintptr(unsafe.Pointer(&wc))) // fails harmlessly when already registered
		title, _ := windows.UTF16PtrFromString("heidi-tray")
		hwnd, _, err := procCreateWindowExW.Call(0, uintptr(unsafe.Pointer(className)), uintptr(unsafe.Pointer(title)),
			0, 0, 0, 0, 0, 0, 0, 0, 0) // top-level, never shown
		if hwnd == 0 {
			ready <- created{err: fmt.Errorf("creating a hidden window: %w", err)}
			return
		}
		handlers.Store(hwnd, h)
		ready <- created{hwnd: hwnd}
		var m winMsg
		for {
			r, _, _ := procGetMessageW.Call(uintptr(unsafe.Pointer(&m)), 0, 0, 0)
			if int32(r) <= 0 {
				return
			}
			procDispatchMessageW.Call(uintptr(unsafe.Pointer(&m)))
		}
	}()
	c := <-ready
	if c.err != nil {
		<-w.done
		return nil, c.err
	}
	w.hwnd = c.hwnd
	return w, nil
}

// HWND is the window's handle, for APIs that deliver to a window.
func (w *Window) HWND() uintptr { return w.hwnd }

// Close destroys the window and waits for its thread to end.
func (w *Window) Close() {
	w.once.Do(func() {
		removing.Store(w.hwnd, struct{}{})
		procPostMessageW.Call(w.hwnd, wmRemove, 0, 0)
		<-w.done
	})
}
