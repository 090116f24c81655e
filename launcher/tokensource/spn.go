package tokensource

import (
	"fmt"
	"strings"
)

// validSPN accepts service/host[@REALM] with printable ASCII only.
func validSPN(spn string) error {
	svc, host, ok := strings.Cut(spn, "/")
	if !ok || svc == "" || host == "" || len(spn) > 255 || strings.ContainsFunc(spn, func(r rune) bool { return r <= ' ' || r > '~' }) {
		return fmt.Errorf("service principal %q must look like HTTP/tokens.clinic.example", spn)
	}
	return nil
}
