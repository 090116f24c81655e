package install

import (
	"os"
	"path/filepath"

	"github.com/heidi-tray/heidi-tray/launcher/install/plists"
)

// LaunchAgentFile is the per-user LaunchAgent that starts heidi-tray at login.
func LaunchAgentFile() string {
	home, _ := os.UserHomeDir()
	return filepath.Join(home, "Library", "LaunchAgents", plists.BundleID+".plist")
}

// Install writes the LaunchAgent; the URL scheme is the app bundle's
// (CFBundleURLTypes), which Launch Services registers when the app is copied.
func Install(exe string, autostart bool) (Report, error) {
	var r Report
	r.add("unchanged: heidi-tray:// is registered by heidi-tray.app's Info.plist (CFBundleURLTypes)")
	rep, err := SetAutostart(exe, autostart)
	return append(r, rep...), err
}

// Uninstall removes the LaunchAgent.
func Uninstall() (Report, error) {
	var r Report
	return r, removeFile(&r, LaunchAgentFile())
}

// SetAutostart writes or removes the LaunchAgent.
func SetAutostart(exe string, enable bool) (Report, error) {
	var r Report
	if !enable {
		return r, removeFile(&r, LaunchAgentFile())
	}
	if err := CheckAgentTarget(exe); err != nil {
		return r, err
	}
	return r, writeFile(&r, LaunchAgentFile(), plists.LaunchAgent(exe), 0o644)
}

// AutostartEnabled reports whether the LaunchAgent is there.
func AutostartEnabled() bool { _, err := os.Stat(LaunchAgentFile()); return err == nil }

// Registered: the bundle registers the scheme; a bare binary cannot.
func Registered() bool {
	exe, err := os.Executable()
	return err == nil && filepath.Base(filepath.Dir(filepath.Dir(exe))) == "Contents"
}
