package tokensource

import (
	"strings"
	"testing"
)

// There is no Windows domain here (Wine, or a CI runner not joined to one),
// so these tests cover the refusal paths: every one must end in an error
// that says what to check, never in a token the service would refuse.
func TestSSPIRefusesBadSPN(t *testing.T) {
	for _, spn := range []string{"", "tokens.clinic.example", "HTTP/", "HTTP/host name"} {
		if _, err := (SSPI{}).Negotiate(spn); err == nil || !strings.Contains(err.Error(), "must look like HTTP/") {
			t.Errorf("SPN %q: %v", spn, err)
		}
	}
}

func TestSSPIWithoutDomain(t *testing.T) {
	tok, err := (SSPI{}).Negotiate("HTTP/tokens.clinic.example")
	if err == nil {
		t.Fatalf("got a %d-byte token with no domain to issue one", len(tok))
	}
	msg := err.Error()
	if !strings.Contains(msg, "domain") && !strings.Contains(msg, "NTLM") && !strings.Contains(msg, "setspn") {
		t.Fatalf("the refusal does not say what to check: %v", msg)
	}
	t.Logf("refusal, as a user would see it: %v", msg)
}
