package tokensource

import (
	"errors"
	"fmt"
	"strings"

	"github.com/alexbrainman/sspi/negotiate"
)

// SSPI negotiates with the Windows sign-in (the domain account's Kerberos
// tickets) through the Negotiate package: no password, no cache file.
type SSPI struct{}

// SystemNegotiator is the platform's way to sign in to the token service.
func SystemNegotiator() Negotiator { return SSPI{} }

// Negotiate implements Negotiator.
func (SSPI) Negotiate(spn string) ([]byte, error) {
	if err := validSPN(spn); err != nil {
		return nil, err
	}
	cred, err := negotiate.AcquireCurrentUserCredentials()
	if err != nil {
		return nil, fmt.Errorf("Windows sign-in credentials are not available (%v); is this a domain account?", err)
	}
	defer cred.Release()
	ctx, tok, err := negotiate.NewClientContext(cred, spn)
	if err != nil {
		return nil, fmt.Errorf("Windows could not get a Kerberos ticket for %s (%v); is the PC joined to the domain and the SPN registered (setspn -L)?", spn, err)
	}
	defer ctx.Release()
	if len(tok) == 0 {
		return nil, errors.New("Windows produced an empty sign-in token")
	}
	// NTLM (Negotiate's fallback when Kerberos fails) starts "NTLMSSP\0";
	// the service only speaks Kerberos, so say why rather than be refused.
	if strings.HasPrefix(string(tok), "NTLMSSP\x00") {
		return nil, fmt.Errorf("Windows fell back to NTLM for %s: no Kerberos ticket for that SPN; check its registration (setspn -Q %s) and that the service URL uses its DNS name, not an IP address", spn, spn)
	}
	return tok, nil
}
