//go:build darwin && cgo

package tray

/*
#cgo CFLAGS: -x objective-c -fobjc-arc
#cgo LDFLAGS: -framework Cocoa
void heidiTrayRegisterURLHandler(void);
*/
import "C"

//export heidiTrayURL
func heidiTrayURL(u *C.char) { DeliverURL(C.GoString(u)) }

// init runs on the main thread before systray starts the run loop, so the
// URL that launched the app is not lost.
func init() { C.heidiTrayRegisterURLHandler() }
