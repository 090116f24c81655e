package clipboard

import (
	"fmt"
	"unsafe"

	"golang.org/x/sys/windows"
)

var (
	user32           = windows.NewLazySystemDLL("user32.dll")
	kernel32         = windows.NewLazySystemDLL("kernel32.dll")
	openClipboard    = user32.NewProc("OpenClipboard")
	closeClipboard   = user32.NewProc("CloseClipboard")
	emptyClipboard   = user32.NewProc("EmptyClipboard")
	setClipboardData = user32.NewProc("SetClipboardData")
	globalAlloc      = kernel32.NewProc("GlobalAlloc")
	globalLock       = kernel32.NewProc("GlobalLock")
	globalUnlock     = kernel32.NewProc("GlobalUnlock")
	moveMemory       = kernel32.NewProc("RtlMoveMemory")
)

const (
	cfUnicodeText = 13
	gmemMoveable  = 0x0002
)

// copyText writes CF_UNICODETEXT through the Win32 clipboard API.
func copyText(text string) error {
	u, err := windows.UTF16FromString(text)
	if err != nil {
		return fmt.Errorf("the note cannot be copied: %w", err)
	}
	if r, _, err := openClipboard.Call(0); r == 0 {
		return fmt.Errorf("opening the clipboard: %w", err)
	}
	defer closeClipboard.Call()
	emptyClipboard.Call()
	size := uintptr(len(u) * 2)
	h, _, err := globalAlloc.Call(gmemMoveable, size)
	if h == 0 {
		return fmt.Errorf("allocating clipboard memory: %w", err)
	}
	p, _, err := globalLock.Call(h)
	if p == 0 {
		return fmt.Errorf("locking clipboard memory: %w", err)
	}
	moveMemory.Call(p, uintptr(unsafe.Pointer(&u[0])), size)
	globalUnlock.Call(h)
	if r, _, err := setClipboardData.Call(cfUnicodeText, h); r == 0 {
		return fmt.Errorf("setting the clipboard: %w", err)
	}
	return nil
}
