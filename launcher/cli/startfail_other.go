//go:build !windows

package cli

import (
	"log/slog"
	"os"
	"runtime"
)

// reportStartFailure: outside Windows the log and standard error suffice
// (launchd and systemd keep a service's standard error).
func reportStartFailure(string) {}

// hasDesktop: a graphical session to show a notification in.
func hasDesktop() bool {
	return runtime.GOOS == "darwin" || os.Getenv("DISPLAY") != "" || os.Getenv("WAYLAND_DISPLAY") != ""
}

// onSessionEnd: on Unix the session's end arrives as SIGTERM, which run
// already handles.
func onSessionEnd(_ *slog.Logger, _ func()) func() { return func() {} }
