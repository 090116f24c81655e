package clipboard

import (
	"testing"
	"unsafe"

	"golang.org/x/sys/windows"
)

var (
	getClipboardData  = user32.NewProc("GetClipboardData")
	isFormatAvailable = user32.NewProc("IsClipboardFormatAvailable")
)

// A copied note is on the real Win32 clipboard (Wine's, under CI) as text,
// with the three formats that keep it out of monitors, history and cloud sync.
func TestCopyMarksTheNoteSensitive(t *testing.T) {
	const note = "Note for Jane Citizen: BP 120/80"
	if err := Copy(note); err != nil {
		t.Fatal(err)
	}
	if r, _, err := openClipboard.Call(0); r == 0 {
		t.Fatalf("opening the clipboard: %v", err)
	}
	defer closeClipboard.Call()
	h, _, _ := getClipboardData.Call(cfUnicodeText)
	if h == 0 {
		t.Fatal("no text on the clipboard")
	}
	p, _, _ := globalLock.Call(h)
	u := make([]uint16, len(note)+1)
	moveMemory.Call(uintptr(unsafe.Pointer(&u[0])), p, uintptr(len(u)*2))
	got := windows.UTF16ToString(u)
	globalUnlock.Call(h)
	if got != note {
		t.Fatalf("clipboard text %q", got)
	}
	for _, name := range sensitiveFormats {
		f, err := formatID(name)
		if err != nil {
			t.Fatal(err)
		}
		if r, _, _ := isFormatAvailable.Call(f); r == 0 {
			t.Errorf("the clipboard lacks %s", name)
			continue
		}
		h, _, _ := getClipboardData.Call(f)
		p, _, _ := globalLock.Call(h)
		v := uint32(1)
		if p != 0 {
			moveMemory.Call(uintptr(unsafe.Pointer(&v)), p, 4)
		}
		if v != 0 {
			t.Errorf("%s is not a DWORD 0", name)
		}
		globalUnlock.Call(h)
	}
}
