package cli

import (
	"os/user"
	"path/filepath"

	"github.com/heidi-tray/heidi-tray/launcher/config"
	"github.com/heidi-tray/heidi-tray/packaging/macos/plists"
)

// policySource: managed preferences that MDM or configuration profiles
// install for heidi-tray's domain (device-wide, then this user's).
func policySource() config.PolicySource {
	dir := "/Library/Managed Preferences"
	files := []string{filepath.Join(dir, plists.BundleID+".plist")}
	if u, err := user.Current(); err == nil {
		files = append(files, filepath.Join(dir, u.Username, plists.BundleID+".plist"))
	}
	return managedPrefs{files: files}
}
