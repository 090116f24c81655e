//go:build darwin && cgo

package tray

/*
#cgo CFLAGS: -x objective-c -fobjc-arc
#cgo LDFLAGS: -framework Cocoa
void heidiTrayInstallEventHandlers(void);
void heidiTrayPumpEvents(double seconds);
*/
import "C"

import "time"

const osPumps = true

//export heidiTrayURL
func heidiTrayURL(u *C.char) { DeliverURL(C.GoString(u)) }

//export heidiTrayQuit
func heidiTrayQuit() { RequestQuit() }

// init runs on the main thread (Go keeps main locked to it during init, and
// fyne.io/systray's init keeps it there), before any event loop runs. The
// handlers are installed now and again on
// NSApplicationWillFinishLaunchingNotification, where Apple says to
// install them: AppKit installs its own before that, and delivers the
// launch's events (the URL of a cold start) after it (urlevent_darwin.m).
func init() { C.heidiTrayInstallEventHandlers() }

// pumpEvents runs the AppKit event loop for up to d; main thread only (the
// caller is 'run' on main's goroutine, before the tray starts).
func pumpEvents(d time.Duration) { C.heidiTrayPumpEvents(C.double(d.Seconds())) }
