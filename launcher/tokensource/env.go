package tokensource

import (
	"os"
	"strings"
)

// commandEnv is the tray's environment minus HEIDI_* variables, so the
// command sees exactly the clinician the tray sets.
func commandEnv() []string {
	var out []string
	for _, e := range os.Environ() {
		if !strings.HasPrefix(strings.ToUpper(e), "HEIDI_") {
			out = append(out, e)
		}
	}
	return out
}
