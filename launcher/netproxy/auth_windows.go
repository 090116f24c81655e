package netproxy

import (
	"errors"
	"fmt"

	"github.com/alexbrainman/sspi"
	"github.com/alexbrainman/sspi/negotiate"
)

// Not sspi/ntlm: its init panics where the NTLM package is missing (Wine).

// osAuthenticator signs in to the proxy as the logged-on user (SSPI): no
// password is asked for or stored.
func osAuthenticator(scheme, proxyHost string) (Authenticator, error) {
	switch scheme {
	case "Negotiate":
		cred, err := negotiate.AcquireCurrentUserCredentials()
		if err != nil {
			return nil, fmt.Errorf("no Windows credentials for Negotiate: %w", err)
		}
		return &negotiateAuth{cred: cred, spn: "HTTP/" + proxyHost}, nil
	case "NTLM":
		info, err := sspi.QueryPackageInfo(sspi.NTLMSP_NAME)
		if err != nil {
			return nil, fmt.Errorf("Windows has no NTLM package: %w", err)
		}
		cred, err := sspi.AcquireCredentials("", sspi.NTLMSP_NAME, sspi.SECPKG_CRED_OUTBOUND, nil)
		if err != nil {
			return nil, fmt.Errorf("no Windows credentials for NTLM: %w", err)
		}
		return &ntlmAuth{cred: cred, maxToken: int(info.MaxToken)}, nil
	}
	return nil, errors.New("unsupported scheme " + scheme)
}

type negotiateAuth struct {
	cred *sspi.Credentials
	spn  string // the proxy's Kerberos service name
	ctx  *negotiate.ClientContext
}

func (a *negotiateAuth) Next(challenge []byte) ([]byte, error) {
	if a.ctx == nil {
		ctx, token, err := negotiate.NewClientContext(a.cred, a.spn)
		if err != nil {
			return nil, err
		}
		a.ctx = ctx
		return token, nil
	}
	_, token, err := a.ctx.Update(challenge)
	return token, err
}

func (a *negotiateAuth) Close() {
	if a.ctx != nil {
		a.ctx.Release()
	}
	a.cred.Release()
}

type ntlmAuth struct {
	cred     *sspi.Credentials
	maxToken int
	ctx      *sspi.Context
}

// Next: the NEGOTIATE message first, then the AUTHENTICATE message for the
// proxy's CHALLENGE (InitializeSecurityContext twice).
func (a *ntlmAuth) Next(challenge []byte) ([]byte, error) {
	if a.ctx == nil {
		a.ctx = sspi.NewClientContext(a.cred, sspi.ISC_REQ_CONNECTION)
	}
	out := make([]byte, a.maxToken)
	var inBuf, outBuf [1]sspi.SecBuffer
	outBuf[0].Set(sspi.SECBUFFER_TOKEN, out)
	var in *sspi.SecBufferDesc
	if challenge != nil {
		inBuf[0].Set(sspi.SECBUFFER_TOKEN, challenge)
		in = sspi.NewSecBufferDesc(inBuf[:])
	}
	switch ret := a.ctx.Update(nil, sspi.NewSecBufferDesc(outBuf[:]), in); ret {
	case sspi.SEC_E_OK, sspi.SEC_I_CONTINUE_NEEDED:
	default:
		return nil, ret
	}
	n := int(outBuf[0].BufferSize)
	if n == 0 {
		return nil, errors.New("SSPI gave an empty NTLM token")
	}
	return out[:n], nil
}

func (a *ntlmAuth) Close() {
	if a.ctx != nil {
		a.ctx.Release()
	}
	a.cred.Release()
}
