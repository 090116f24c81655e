package netproxy

import (
	"context"
	"errors"
	"testing"
)

// The real SSPI against a proxy that asks for NTLM and never accepts:
// under Wine (no domain, usually no ntlm_auth) or on a Windows machine,
// either Windows gives no credentials or the proxy refuses them; both end
// in ErrProxyAuth with the reason, after a bounded number of CONNECTs. A
// proxy that accepts a real sign-in needs a domain (see docs/windows.md).
func TestSSPIRefusal(t *testing.T) {
	p := newFakeProxy(t, func(leg int, _ string) (int, []string) {
		if leg == 1 {
			// A syntactically valid NTLM challenge would be needed for
			// SSPI to answer; anything else it refuses.
			return 407, []string{"NTLM " + b64("not an NTLM challenge")}
		}
		return 407, []string{"NTLM"}
	})
	c, err := Tunnel(context.Background(), p.url(nil), "heidi.example:443")
	if err == nil {
		c.Close()
		t.Fatal("a tunnel was opened")
	}
	if !errors.Is(err, ErrProxyAuth) {
		t.Fatalf("want ErrProxyAuth, got %v", err)
	}
	if n := len(p.connects()); n > maxLegs+1 {
		t.Fatalf("%d CONNECTs", n)
	}
	t.Logf("refused as: %v (CONNECTs: %d)", err, len(p.connects()))
}
