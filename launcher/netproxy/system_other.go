//go:build !windows

package netproxy

import (
	"net/http"
	"net/url"
)

// systemProxy: Linux and macOS desktop proxies reach programs through the
// environment; a Go binary cannot read macOS's SystemConfiguration without cgo.
func systemProxy(*http.Request) (*url.URL, error) { return nil, nil }
