package netproxy

import (
	"net/http"
	"os"
	"testing"

	"golang.org/x/sys/windows/registry"
)

const inetKey = `Software\Microsoft\Windows\CurrentVersion\Internet Settings`

func TestSystemProxyFromUserSettings(t *testing.T) {
	for _, k := range []string{"HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"} {
		os.Unsetenv(k)
	}
	k, _, err := registry.CreateKey(registry.CURRENT_USER, inetKey, registry.ALL_ACCESS)
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	// What the Internet Options dialog (or Group Policy) writes: the values
	// and the binary connection settings WinHTTP reads.
	const server, override = "http=10.9.9.9:8080;https=proxy.clinic.example:3128", "<local>;*.internal.clinic.example"
	k.SetDWordValue("ProxyEnable", 1)
	k.SetStringValue("ProxyServer", server)
	k.SetStringValue("ProxyOverride", override)
	conn, _, err := registry.CreateKey(registry.CURRENT_USER, inetKey+`\Connections`, registry.ALL_ACCESS)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetBinaryValue("DefaultConnectionSettings", connectionSettings(server, override))
	defer func() {
		k.SetDWordValue("ProxyEnable", 0)
		k.DeleteValue("ProxyServer")
		k.DeleteValue("ProxyOverride")
		conn.DeleteValue("DefaultConnectionSettings")
	}()

	req, _ := http.NewRequest("GET", "https://au.api.heidihealth.com/api/v2/ml-scribe/open-api/jwt", nil)
	p, err := Func()(req)
	if err != nil || p == nil || p.Host != "proxy.clinic.example:3128" {
		t.Fatalf("the clinic's proxy for https: %v %v", p, err)
	}
	for _, direct := range []string{"https://intranet/", "https://emr.internal.clinic.example/"} {
		req, _ := http.NewRequest("GET", direct, nil)
		if p, _ := Func()(req); p != nil {
			t.Fatalf("%s should bypass the proxy, got %v", direct, p)
		}
	}
	// HTTPS_PROXY wins over the system settings.
	os.Setenv("HTTPS_PROXY", "http://env-proxy.example:9")
	defer os.Unsetenv("HTTPS_PROXY")
	if p, _ := Func()(req); p == nil || p.Host != "env-proxy.example:9" {
		t.Fatalf("environment proxy: %v", p)
	}
}

func TestProxyListParsing(t *testing.T) {
	if u := pick("10.0.0.1:8080", "https"); u == nil || u.Host != "10.0.0.1:8080" {
		t.Fatalf("single proxy: %v", u)
	}
	if u := pick("http=a:1;https=b:2", "https"); u == nil || u.Host != "b:2" {
		t.Fatalf("per-scheme: %v", u)
	}
	if u := pick("http=a:1", "https"); u != nil {
		t.Fatalf("no https entry should be direct: %v", u)
	}
	if !bypassed("printer", "<local>") || bypassed("a.b", "<local>") || !bypassed("x.clinic.example", "*.clinic.example") || !bypassed("127.0.0.1", "") {
		t.Fatal("bypass rules")
	}
}

// connectionSettings is the DefaultConnectionSettings blob: version, counter,
// flags (2 = use a proxy), then length-prefixed proxy, bypass and PAC URL.
func connectionSettings(server, bypass string) []byte {
	le := func(b []byte, v uint32) []byte { return append(b, byte(v), byte(v>>8), byte(v>>16), byte(v>>24)) }
	b := le(le(le(nil, 0x46), 1), 0x3)
	b = append(le(b, uint32(len(server))), server...)
	b = append(le(b, uint32(len(bypass))), bypass...)
	b = le(b, 0)
	return append(b, make([]byte, 32)...)
}
