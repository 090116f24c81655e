//go:build darwin && !cgo

package cli

import "github.com/heidi-tray/heidi-tray/launcher/config"

// policySource without cgo (checks only; the shipped app is built with
// cgo and uses CFPreferences): the files macOS writes for managed
// preferences, device-wide, then this user's. Not the supported interface.
func policySource() config.PolicySource { return managedPrefs{files: policyFiles()} }
