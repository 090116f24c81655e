// Package loopback is heidi-tray's one answer to "does this stay on this
// machine?": for the page URL the browser opens, plain-http Heidi test
// endpoints, a widget script override and proxy bypass.
package loopback

import (
	"net"
	"net/url"
	"strings"
)

// Host reports whether host (a host name or IP, without port or brackets)
// names this machine: "localhost" or a loopback address. A name that merely
// starts with one ("127.0.0.1.evil.example") is not.
func Host(host string) bool {
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// HTTPURL reports whether raw is an http:// URL to a loopback host, with no
// user info.
func HTTPURL(raw string) bool {
	u, err := url.Parse(raw)
	return err == nil && u.Scheme == "http" && u.User == nil && u.Host != "" && Host(u.Hostname())
}
