// Package hiddenwindow gives Windows code a hidden top-level window whose
// messages are handled on an OS thread of its own. Windows delivers some
// events only to windows: the end of the session (WM_ENDSESSION reaches
// top-level windows only) and session lock/unlock (WTSRegisterSessionNotification
// takes a window). It has no code on other systems.
package hiddenwindow
