package netproxy

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeProxy is a CONNECT proxy on loopback whose answer to each CONNECT
// (status and Proxy-Authenticate values) a test decides; on 200 it splices
// the tunnel to the target.
type fakeProxy struct {
	ln     net.Listener
	decide func(leg int, authz string) (int, []string)
	// upstream, when set, is where every tunnel goes (whatever host it names).
	upstream string
	mu       sync.Mutex
	seen     []string // Proxy-Authorization of each CONNECT
	wg       sync.WaitGroup
}

func newFakeProxy(t *testing.T, decide func(leg int, authz string) (int, []string)) *fakeProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &fakeProxy{ln: ln, decide: decide}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.wg.Add(1)
			go func() { defer p.wg.Done(); p.serve(c) }()
		}
	}()
	t.Cleanup(func() { ln.Close(); p.wg.Wait() })
	return p
}

func (p *fakeProxy) serve(c net.Conn) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(c)
	for {
		req, err := http.ReadRequest(br)
		if err != nil || req.Method != http.MethodConnect {
			return
		}
		p.mu.Lock()
		leg := len(p.seen)
		p.seen = append(p.seen, req.Header.Get("Proxy-Authorization"))
		p.mu.Unlock()
		status, offers := p.decide(leg, req.Header.Get("Proxy-Authorization"))
		var b strings.Builder
		fmt.Fprintf(&b, "HTTP/1.1 %d %s\r\n", status, http.StatusText(status))
		for _, o := range offers {
			fmt.Fprintf(&b, "Proxy-Authenticate: %s\r\n", o)
		}
		if status != http.StatusOK {
			b.WriteString("Content-Length: 0\r\n\r\n")
			c.Write([]byte(b.String()))
			continue
		}
		b.WriteString("\r\n")
		c.Write([]byte(b.String()))
		target := req.Host
		if p.upstream != "" {
			target = p.upstream
		}
		up, err := net.Dial("tcp", target)
		if err != nil {
			return
		}
		c.SetDeadline(time.Time{})
		go func() { io.Copy(up, br); up.Close() }()
		io.Copy(c, up)
		return
	}
}

func (p *fakeProxy) url(user *url.Userinfo) *url.URL {
	return &url.URL{Scheme: "http", Host: p.ln.Addr().String(), User: user}
}

func (p *fakeProxy) connects() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.seen...)
}

// fakeNTLM answers like an NTLM client: "negotiate", then a response
// derived from the proxy's challenge.
type fakeNTLM struct{ closed bool }

func (f *fakeNTLM) Next(ch []byte) ([]byte, error) {
	if ch == nil {
		return []byte("type1"), nil
	}
	if string(ch) == "bad" {
		return nil, errors.New("the security package refused the challenge")
	}
	return []byte("type3-for-" + string(ch)), nil
}
func (f *fakeNTLM) Close() { f.closed = true }

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// get fetches the TLS server's page through a tunnel Tunnel opened.
func get(t *testing.T, srv *httptest.Server, proxy *url.URL) (string, error) {
	tr := &http.Transport{DialTLSContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := Tunnel(ctx, proxy, addr)
		if err != nil {
			return nil, err
		}
		cfg := srv.Client().Transport.(*http.Transport).TLSClientConfig.Clone()
		cfg.ServerName, _, _ = net.SplitHostPort(addr)
		tc := tls.Client(c, cfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			c.Close()
			return nil, err
		}
		return tc, nil
	}}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr, Timeout: 10 * time.Second}).Get(srv.URL)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b), nil
}

func withAuthenticator(t *testing.T, fn func(scheme, host string) (Authenticator, error)) {
	old := newAuthenticator
	newAuthenticator = fn
	t.Cleanup(func() { newAuthenticator = old })
}

func TestTunnelWithWindowsSignIn(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "heidi") }))
	defer srv.Close()
	auth := &fakeNTLM{}
	withAuthenticator(t, func(scheme, host string) (Authenticator, error) {
		if scheme != "NTLM" || host != "127.0.0.1" {
			t.Errorf("authenticator for %s at %s", scheme, host)
		}
		return auth, nil
	})
	p := newFakeProxy(t, func(leg int, authz string) (int, []string) {
		switch authz {
		case "":
			return 407, []string{"Basic realm=\"x\"", "NTLM"}
		case "NTLM " + b64("type1"):
			return 407, []string{"NTLM " + b64("chal")}
		case "NTLM " + b64("type3-for-chal"):
			return 200, nil
		}
		return 407, nil
	})
	body, err := get(t, srv, p.url(nil))
	if err != nil || body != "heidi" {
		t.Fatalf("through the NTLM proxy: %q %v (CONNECTs %q)", body, err, p.connects())
	}
	if c := p.connects(); len(c) != 3 {
		t.Fatalf("CONNECTs %q", c)
	}
	if !auth.closed {
		t.Fatal("the security context was not released")
	}
}

func TestTunnelBasicFromTheProxyURL(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "heidi") }))
	defer srv.Close()
	p := newFakeProxy(t, func(leg int, authz string) (int, []string) {
		if authz == "Basic "+b64("clinic:pa ss") {
			return 200, nil
		}
		return 407, []string{"Basic realm=\"x\""}
	})
	if body, err := get(t, srv, p.url(url.UserPassword("clinic", "pa ss"))); err != nil || body != "heidi" {
		t.Fatalf("through the Basic proxy: %q %v", body, err)
	}
}

// Every way a proxy's authentication can fail ends in ErrProxyAuth with
// advice, after a bounded number of CONNECTs, and nothing is tunnelled.
func TestTunnelRefusals(t *testing.T) {
	cases := []struct {
		name    string
		auth    func(string, string) (Authenticator, error)
		decide  func(leg int, authz string) (int, []string)
		mention string
		maxConn int
	}{
		{"a scheme heidi-tray cannot do", nil,
			func(int, string) (int, []string) { return 407, []string{"Digest realm=\"x\""} }, "asks for Digest", 1},
		{"Basic without credentials", nil,
			func(int, string) (int, []string) { return 407, []string{"Basic realm=\"x\""} }, "asks for Basic", 1},
		{"no Windows credentials", func(string, string) (Authenticator, error) { return nil, errors.New("no logon session") },
			func(int, string) (int, []string) { return 407, []string{"Negotiate"} }, "no logon session", 1},
		{"the challenge is refused by SSPI", func(string, string) (Authenticator, error) { return &fakeNTLM{}, nil },
			func(leg int, _ string) (int, []string) { return 407, []string{"NTLM " + b64("bad")} }, "refused the challenge", 2},
		{"the proxy rejects the sign-in", func(string, string) (Authenticator, error) { return &fakeNTLM{}, nil },
			func(leg int, _ string) (int, []string) {
				if leg == 0 {
					return 407, []string{"NTLM"}
				}
				if leg == 1 {
					return 407, []string{"NTLM " + b64("chal")}
				}
				return 407, []string{"NTLM"}
			}, "refused the Windows sign-in", 3},
		{"the proxy never says yes", func(string, string) (Authenticator, error) { return &fakeNTLM{}, nil },
			func(leg int, _ string) (int, []string) { return 407, []string{"NTLM " + b64(fmt.Sprint("c", leg))} }, "kept refusing", maxLegs + 1},
		{"the tunnel itself is refused", nil,
			func(int, string) (int, []string) { return 403, nil }, "refused the tunnel", 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.auth != nil {
				withAuthenticator(t, tc.auth)
			}
			p := newFakeProxy(t, tc.decide)
			c, err := Tunnel(context.Background(), p.url(nil), "heidi.example:443")
			if err == nil {
				c.Close()
				t.Fatal("a tunnel was opened")
			}
			if !strings.Contains(err.Error(), tc.mention) || (tc.name != "the tunnel itself is refused" && !errors.Is(err, ErrProxyAuth)) {
				t.Fatalf("want an error mentioning %q, got %v", tc.mention, err)
			}
			if n := len(p.connects()); n > tc.maxConn {
				t.Fatalf("%d CONNECTs, want at most %d", n, tc.maxConn)
			}
		})
	}
}

// Without SSPI (every OS but Windows) a Negotiate proxy is refused with
// the reason, not silently.
func TestNegotiateNeedsWindows(t *testing.T) {
	if _, err := osAuthenticator("Negotiate", "proxy.clinic.example"); err == nil && !isWindows {
		t.Fatal("an authenticator without SSPI")
	}
}

// Configure routes an HTTPS request through the chosen proxy with
// the tunnel above (not Go's one-shot CONNECT), so an NTLM proxy works for
// the Heidi client.
func TestConfigureTunnelsHTTPSThroughTheProxy(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "heidi via "+r.Host) }))
	defer srv.Close()
	withAuthenticator(t, func(string, string) (Authenticator, error) { return &fakeNTLM{}, nil })
	p := newFakeProxy(t, func(leg int, authz string) (int, []string) {
		switch authz {
		case "NTLM " + b64("type1"):
			return 407, []string{"NTLM " + b64("chal")}
		case "NTLM " + b64("type3-for-chal"):
			return 200, nil
		}
		return 407, []string{"NTLM"}
	})
	p.upstream = srv.Listener.Addr().String()
	// Not through HTTPS_PROXY: net/http reads the environment once per process.
	tr := &http.Transport{TLSClientConfig: srv.Client().Transport.(*http.Transport).TLSClientConfig.Clone()}
	configure(tr, func(*http.Request) (*url.URL, error) { return p.url(nil), nil })
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr, Timeout: 10 * time.Second}).Get("https://example.com/v1/jwt")
	if err != nil {
		t.Fatalf("through the NTLM proxy: %v (CONNECTs %q)", err, p.connects())
	}
	defer resp.Body.Close()
	if b, _ := io.ReadAll(resp.Body); string(b) != "heidi via example.com" {
		t.Fatalf("got %q", b)
	}
	if c := p.connects(); len(c) != 3 {
		t.Fatalf("CONNECTs %q", c)
	}
}
