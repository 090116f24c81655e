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
	registerFormat   = user32.NewProc("RegisterClipboardFormatW")
	globalAlloc      = kernel32.NewProc("GlobalAlloc")
	globalLock       = kernel32.NewProc("GlobalLock")
	globalUnlock     = kernel32.NewProc("GlobalUnlock")
	moveMemory       = kernel32.NewProc("RtlMoveMemory")
)

const (
	cfUnicodeText = 13
	gmemMoveable  = 0x0002
)

// sensitiveFormats mark the clipboard's content as sensitive (Microsoft's
// documented formats): clipboard monitors are asked to ignore it, and it is
// kept out of clipboard history and cloud clipboard sync. A DWORD 0 is the
// value the history and cloud formats expect; the first needs any data.
var sensitiveFormats = []string{"ExcludeClipboardContentFromMonitorProcessing", "CanIncludeInClipboardHistory", "CanUploadToCloudClipboard"}

// copyText writes CF_UNICODETEXT through the Win32 clipboard API, marked as
// sensitive.
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
	if err := setData(cfUnicodeText, unsafe.Pointer(&u[0]), uintptr(len(u)*2)); err != nil {
		return fmt.Errorf("setting the clipboard: %w", err)
	}
	zero := uint32(0)
	for _, name := range sensitiveFormats {
		f, err := formatID(name)
		if err != nil {
			return err
		}
		if err := setData(f, unsafe.Pointer(&zero), 4); err != nil {
			emptyClipboard.Call() // never leave the note unmarked
			return fmt.Errorf("marking the clipboard as sensitive (%s): %w", name, err)
		}
	}
	return nil
}

func formatID(name string) (uintptr, error) {
	p, err := windows.UTF16PtrFromString(name)
	if err != nil {
		return 0, err
	}
	f, _, err := registerFormat.Call(uintptr(unsafe.Pointer(p)))
	if f == 0 {
		return 0, fmt.Errorf("registering the clipboard format %s: %w", name, err)
	}
	return f, nil
}

// setData copies size bytes at src into movable global memory owned by the
// clipboard.
func setData(format uintptr, src unsafe.Pointer, size uintptr) error {
	h, _, err := globalAlloc.Call(gmemMoveable, size)
	if h == 0 {
		return fmt.Errorf("allocating clipboard memory: %w", err)
	}
	p, _, err := globalLock.Call(h)
	if p == 0 {
		return fmt.Errorf("locking clipboard memory: %w", err)
	}
	moveMemory.Call(p, uintptr(src), size)
	globalUnlock.Call(h)
	if r, _, err := setClipboardData.Call(format, h); r == 0 {
		return err
	}
	return nil
}
