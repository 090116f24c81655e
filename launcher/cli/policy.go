package cli

import "github.com/heidi-tray/heidi-tray/launcher/config"

// policySource is the administrator's policy on this platform; the Windows
// registry and macOS managed preferences readers plug in here.
func policySource() config.PolicySource { return nil }
