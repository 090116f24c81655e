package cli

import (
	"os/user"
	"path/filepath"

	"github.com/heidi-tray/heidi-tray/launcher/install/plists"
)

// policyFiles are where macOS keeps managed preferences for heidi-tray's
// domain, device-wide, then this user's. The running tray polls them to
// notice a new profile (launcher/policywatch); with cgo the values
// themselves are read through CFPreferences.
func policyFiles() []string {
	dir := "/Library/Managed Preferences"
	files := []string{filepath.Join(dir, plists.BundleID+".plist")}
	if u, err := user.Current(); err == nil {
		files = append(files, filepath.Join(dir, u.Username, plists.BundleID+".plist"))
	}
	return files
}
