//go:build !windows

package netproxy

import "errors"

// osAuthenticator: Negotiate/NTLM with the user's credentials needs SSPI.
func osAuthenticator(scheme, proxyHost string) (Authenticator, error) {
	return nil, errors.New("heidi-tray supports it only on Windows; let Heidi's hosts through without authentication, or give Basic credentials in HTTPS_PROXY")
}
