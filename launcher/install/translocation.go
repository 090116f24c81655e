package install

import (
	"errors"
	"strings"
)

// CheckAgentTarget refuses to start at login a macOS binary that runs under
// App Translocation: Gatekeeper runs a quarantined app that was not moved
// (say, opened from Downloads) from a random read-only path that is gone
// after the next restart, so a LaunchAgent pointing there would start
// nothing. Platform-neutral, so it is tested everywhere.
func CheckAgentTarget(exe string) error {
	if strings.Contains(exe, "/AppTranslocation/") {
		return errors.New("heidi-tray is running from a temporary copy that macOS made (App Translocation), which disappears after a restart; " +
			"move heidi-tray.app to /Applications (drag it in the Finder), open it from there, and turn on start at login again")
	}
	return nil
}
