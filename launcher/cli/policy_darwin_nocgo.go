//go:build darwin && !cgo

package cli

import (
	"os/user"
	"path/filepath"

	"github.com/heidi-tray/heidi-tray/launcher/config"
	"github.com/heidi-tray/heidi-tray/launcher/install/plists"
)

// policySource without cgo (checks only; the shipped app is built with
// cgo and uses CFPreferences): the files macOS writes for managed
// preferences, device-wide, then this user's. Not the supported interface.
func policySource() config.PolicySource {
	dir := "/Library/Managed Preferences"
	files := []string{filepath.Join(dir, plists.BundleID+".plist")}
	if u, err := user.Current(); err == nil {
		files = append(files, filepath.Join(dir, u.Username, plists.BundleID+".plist"))
	}
	return managedPrefs{files: files}
}
