package cli

import (
	"golang.org/x/sys/windows"
	"golang.org/x/sys/windows/svc/eventlog"
)

// EventSource is the Event Log source heidi-tray writes under (Windows
// Logs > Application). The per-machine MSI registers it; unregistered, the
// events are still written, with a note that the source is unknown.
const EventSource = "heidi-tray"

// reportStartFailure writes msg to the Application event log, where IT
// looks when a tray started by the Run key or an installer is missing.
func reportStartFailure(msg string) {
	l, err := eventlog.Open(EventSource)
	if err != nil {
		return
	}
	defer l.Close()
	l.Error(1, msg)
}

// hasDesktop: an interactive session (not session 0, where services and
// SYSTEM-context installers run).
func hasDesktop() bool {
	var sid uint32
	if err := windows.ProcessIdToSessionId(windows.GetCurrentProcessId(), &sid); err != nil {
		return false
	}
	return sid != 0
}
