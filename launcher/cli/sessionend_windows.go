package cli

import (
	"log/slog"
	"unsafe"

	"golang.org/x/sys/windows"

	"github.com/heidi-tray/heidi-tray/launcher/internal/hiddenwindow"
)

// Windows ends a session (logoff, shutdown) and Restart Manager closes
// applications for an installer by sending WM_QUERYENDSESSION and then
// WM_ENDSESSION to every top-level window. The tray answers on a hidden
// window of its own: it signs every Heidi window out before Windows may end
// the process, then stops. Message-only windows do not get these messages.

var procRegisterApplicationRestart = windows.NewLazySystemDLL("kernel32.dll").NewProc("RegisterApplicationRestart")

const (
	wmClose            = 0x0010
	wmQueryEndSession  = 0x0011
	wmEndSession       = 0x0016
	endSessionCloseApp = 0x00000001 // lParam: Restart Manager closes the app
	// RegisterApplicationRestart: only after an update, not a crash, hang or reboot.
	restartNoCrash, restartNoHang, restartNoReboot = 1, 2, 8
)

// onSessionEnd calls signOut when the session ends, Restart Manager closes
// the tray or something sends its window WM_CLOSE, and asks Restart Manager
// to start it again after an update. The returned function removes the
// window.
func onSessionEnd(log *slog.Logger, signOut func()) func() {
	if p, err := windows.UTF16PtrFromString("run"); err == nil && procRegisterApplicationRestart.Find() == nil {
		procRegisterApplicationRestart.Call(uintptr(unsafe.Pointer(p)), restartNoCrash|restartNoHang|restartNoReboot)
	}
	signedOut := false // only the window's thread reads and writes it
	w, err := hiddenwindow.Open("heidi-tray-session", func(msg uint32, wParam, lParam uintptr) (uintptr, bool) {
		switch msg {
		case wmQueryEndSession:
			return 1, true // nothing to save: the session may end
		case wmEndSession:
			if wParam == 0 || signedOut {
				return 0, true // another program cancelled the end, or done already
			}
			signedOut = true
			why := "logoff or shutdown"
			if lParam&endSessionCloseApp != 0 {
				why = "an installer (Restart Manager)"
			}
			log.Info("the Windows session is ending; signing out of Heidi", "by", why)
			signOut() // before returning: Windows may end the process after that
			return 0, true
		case wmClose:
			// taskkill without /F, or a script closing the tray's windows:
			// a request to quit, done as 'heidi-tray quit' does it.
			if !signedOut {
				signedOut = true
				log.Info("asked to close (WM_CLOSE); signing out of Heidi and stopping")
				signOut()
			}
			return 0, true
		}
		return 0, false
	})
	if err != nil {
		log.Warn("no window for session-end messages; logoff will not sign out of Heidi first", "err", err)
		return func() {}
	}
	return w.Close
}
