//go:build !windows && !darwin

package cli

import "github.com/heidi-tray/heidi-tray/launcher/config"

// policySource: Linux has no administrator policy store; settings come
// from the config file and the environment.
func policySource() config.PolicySource { return nil }

// policyFiles: no policy files to watch.
func policyFiles() []string { return nil }
