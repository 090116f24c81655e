package netproxy

import (
	"net/http"
	"net/url"
	"strings"
	"unsafe"

	"github.com/heidi-tray/heidi-tray/launcher/internal/loopback"
	"golang.org/x/sys/windows"
)

var (
	winhttp            = windows.NewLazySystemDLL("winhttp.dll")
	getIEProxyConfig   = winhttp.NewProc("WinHttpGetIEProxyConfigForCurrentUser")
	winHttpOpen        = winhttp.NewProc("WinHttpOpen")
	winHttpCloseHandle = winhttp.NewProc("WinHttpCloseHandle")
	winHttpGetProxy    = winhttp.NewProc("WinHttpGetProxyForUrl")
	globalFree         = windows.NewLazySystemDLL("kernel32.dll").NewProc("GlobalFree")
)

type ieProxyConfig struct {
	AutoDetect    int32
	AutoConfigURL *uint16
	Proxy         *uint16
	ProxyBypass   *uint16
}

type autoProxyOptions struct {
	Flags                 uint32
	AutoDetectFlags       uint32
	AutoConfigURL         *uint16
	Reserved1             uintptr
	Reserved2             uint32
	AutoLogonIfChallenged int32
}

type proxyInfo struct {
	AccessType  uint32
	Proxy       *uint16
	ProxyBypass *uint16
}

const (
	autoDetect          = 0x1
	autoConfigURL       = 0x2
	detectTypeDHCP      = 0x1
	detectTypeDNSA      = 0x2
	accessNamedProxy    = 3
	accessNoProxy       = 1
	winhttpAccessNoProx = 1
)

func take(p *uint16) string {
	if p == nil {
		return ""
	}
	s := windows.UTF16PtrToString(p)
	globalFree.Call(uintptr(unsafe.Pointer(p)))
	return s
}

// systemProxy reads the user's WinINet/WinHTTP settings: a PAC script or
// WPAD when configured, else the static proxy and its bypass list.
func systemProxy(req *http.Request) (*url.URL, error) {
	var cfg ieProxyConfig
	if r, _, _ := getIEProxyConfig.Call(uintptr(unsafe.Pointer(&cfg))); r == 0 {
		return nil, nil // no settings: direct
	}
	pac, static, bypass := take(cfg.AutoConfigURL), take(cfg.Proxy), take(cfg.ProxyBypass)
	if cfg.AutoDetect != 0 || pac != "" {
		if p, ok := resolvePAC(req.URL.String(), pac, cfg.AutoDetect != 0); ok {
			return p, nil
		}
	}
	if static == "" || bypassed(req.URL.Hostname(), bypass) {
		return nil, nil
	}
	return pick(static, req.URL.Scheme), nil
}

func resolvePAC(target, pac string, detect bool) (*url.URL, bool) {
	agent, _ := windows.UTF16PtrFromString("heidi-tray")
	session, _, _ := winHttpOpen.Call(uintptr(unsafe.Pointer(agent)), winhttpAccessNoProx, 0, 0, 0)
	if session == 0 {
		return nil, false
	}
	defer winHttpCloseHandle.Call(session)
	opts := autoProxyOptions{AutoLogonIfChallenged: 1}
	if pac != "" {
		opts.Flags = autoConfigURL
		opts.AutoConfigURL, _ = windows.UTF16PtrFromString(pac)
	} else if detect {
		opts.Flags = autoDetect
		opts.AutoDetectFlags = detectTypeDHCP | detectTypeDNSA
	}
	u, _ := windows.UTF16PtrFromString(target)
	var info proxyInfo
	if r, _, _ := winHttpGetProxy.Call(session, uintptr(unsafe.Pointer(u)), uintptr(unsafe.Pointer(&opts)), uintptr(unsafe.Pointer(&info))); r == 0 {
		return nil, false
	}
	p, _ := take(info.Proxy), take(info.ProxyBypass)
	if info.AccessType != accessNamedProxy || p == "" {
		return nil, true // the script said DIRECT
	}
	first, _, _ := strings.Cut(p, ";")
	return pick(strings.TrimSpace(first), "https"), true
}

// pick reads "host:port" or "http=h:p;https=h:p" for the URL's scheme.
func pick(list, scheme string) *url.URL {
	chosen := ""
	for _, part := range strings.FieldsFunc(list, func(r rune) bool { return r == ';' || r == ' ' }) {
		k, v, ok := strings.Cut(part, "=")
		switch {
		case !ok && chosen == "":
			chosen = part
		case ok && strings.EqualFold(k, scheme):
			chosen = v
		}
	}
	if chosen == "" {
		return nil
	}
	if !strings.Contains(chosen, "://") {
		chosen = "http://" + chosen
	}
	u, err := url.Parse(chosen)
	if err != nil {
		return nil
	}
	return u
}

// bypassed applies the bypass list: "<local>" is hosts without a dot;
// patterns may use * wildcards.
func bypassed(host, list string) bool {
	if loopback.Host(host) {
		return true
	}
	for _, p := range strings.FieldsFunc(list, func(r rune) bool { return r == ';' || r == ' ' || r == ',' }) {
		if p == "<local>" && !strings.Contains(host, ".") {
			return true
		}
		if match(strings.ToLower(p), strings.ToLower(host)) {
			return true
		}
	}
	return false
}

func match(pattern, s string) bool {
	if pattern == "" {
		return s == ""
	}
	if pattern[0] == '*' {
		for i := 0; i <= len(s); i++ {
			if match(pattern[1:], s[i:]) {
				return true
			}
		}
		return false
	}
	return s != "" && pattern[0] == s[0] && match(pattern[1:], s[1:])
}
