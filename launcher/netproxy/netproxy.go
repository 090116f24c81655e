// Package netproxy picks the proxy for Heidi's calls the way the clinic's
// other apps do: HTTPS_PROXY/HTTP_PROXY/NO_PROXY first, then (on Windows) the
// user's system proxy settings, static or PAC/WPAD.
package netproxy

import (
	"net/http"
	"net/url"
	"os"
)

// Func returns the proxy function for http.Transport.
func Func() func(*http.Request) (*url.URL, error) {
	return func(req *http.Request) (*url.URL, error) {
		if envSet() {
			return http.ProxyFromEnvironment(req)
		}
		return systemProxy(req)
	}
}

func envSet() bool {
	for _, k := range []string{"HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"} {
		if os.Getenv(k) != "" {
			return true
		}
	}
	return false
}
