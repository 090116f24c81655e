//go:build !windows

package cli

import "github.com/heidi-tray/heidi-tray/launcher/config"

// policySource is the administrator's policy on this platform. Linux has
// none; macOS managed preferences arrive with the app bundle.
func policySource() config.PolicySource { return nil }
