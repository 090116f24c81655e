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
	"net/url"
	"strings"
	"time"
)

// Authenticator answers a proxy's challenges for one scheme (Negotiate or
// NTLM) with the user's Windows credentials (SSPI, auth_windows.go).
type Authenticator interface {
	// Next returns the token for challenge (nil on the first leg).
	Next(challenge []byte) ([]byte, error)
	Close()
}

// newAuthenticator is the OS's (auth_windows.go, auth_other.go); tests
// replace it.
var newAuthenticator = osAuthenticator

// ErrProxyAuth marks a proxy that asked for authentication heidi-tray could
// not give; the message says which and what to do.
var ErrProxyAuth = errors.New("proxy authentication failed")

// maxLegs bounds the CONNECT round trips of one authentication (NTLM needs
// two, Kerberos one).
const maxLegs = 4

// Configure makes tr reach HTTPS hosts the way the clinic's other apps do:
// through the proxy Func picks, answering a 407 that asks for Negotiate or
// NTLM with the user's Windows credentials. Go's transport cannot: it sends
// one CONNECT and gives up on 407. Plain HTTP (loopback tests) keeps Go's
// proxy handling.
func Configure(tr *http.Transport) { configure(tr, Func()) }

// ConfigureWith is Configure with the proxy chosen by pick (a fixed proxy in
// tests; heidiapi passes Func).
func ConfigureWith(tr *http.Transport, pick func(*http.Request) (*url.URL, error)) {
	configure(tr, pick)
}

func configure(tr *http.Transport, pick func(*http.Request) (*url.URL, error)) {
	tr.Proxy = func(req *http.Request) (*url.URL, error) {
		p, err := pick(req)
		if err == nil && p != nil && req.URL.Scheme == "https" && (p.Scheme == "http" || p.Scheme == "https") {
			return nil, nil // DialTLSContext below tunnels it
		}
		return p, err // plain HTTP, SOCKS: Go's own handling
	}
	d := &dialer{pick: pick, tls: tr.TLSClientConfig}
	tr.DialTLSContext = d.dialTLS
}

type dialer struct {
	pick func(*http.Request) (*url.URL, error)
	tls  *tls.Config
}

func (d *dialer) dialTLS(ctx context.Context, network, addr string) (net.Conn, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	proxy, err := d.pick(&http.Request{Method: http.MethodConnect, URL: &url.URL{Scheme: "https", Host: addr}, Header: http.Header{}})
	if err != nil {
		return nil, fmt.Errorf("choosing the proxy: %w", err)
	}
	var conn net.Conn
	if proxy == nil {
		conn, err = (&net.Dialer{Timeout: 10 * time.Second}).DialContext(ctx, network, addr)
	} else {
		conn, err = Tunnel(ctx, proxy, addr)
	}
	if err != nil {
		return nil, err
	}
	cfg := &tls.Config{}
	if d.tls != nil {
		cfg = d.tls.Clone()
	}
	if cfg.ServerName == "" {
		cfg.ServerName = host
	}
	tc := tls.Client(conn, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		conn.Close()
		return nil, err
	}
	return tc, nil
}

// Tunnel opens a CONNECT tunnel to addr through proxy, authenticating with
// the proxy URL's user and password (Basic), or with the user's Windows
// credentials when the proxy asks for Negotiate or NTLM.
func Tunnel(ctx context.Context, proxy *url.URL, addr string) (net.Conn, error) {
	proxyAddr := proxy.Host
	if proxy.Port() == "" {
		port := "80"
		if proxy.Scheme == "https" {
			port = "443"
		}
		proxyAddr = net.JoinHostPort(proxy.Hostname(), port)
	}
	dial := func() (net.Conn, *bufio.Reader, error) {
		c, err := (&net.Dialer{Timeout: 10 * time.Second}).DialContext(ctx, "tcp", proxyAddr)
		if err != nil {
			return nil, nil, fmt.Errorf("connecting to the proxy %s: %w", proxyAddr, err)
		}
		if dl, ok := ctx.Deadline(); ok {
			c.SetDeadline(dl)
		} else {
			c.SetDeadline(time.Now().Add(30 * time.Second))
		}
		if proxy.Scheme == "https" { // TLS to the proxy itself
			tc := tls.Client(c, &tls.Config{ServerName: proxy.Hostname()})
			if err := tc.HandshakeContext(ctx); err != nil {
				c.Close()
				return nil, nil, fmt.Errorf("TLS to the proxy %s: %w", proxyAddr, err)
			}
			c = tc
		}
		return c, bufio.NewReader(c), nil
	}
	conn, br, err := dial()
	if err != nil {
		return nil, err
	}
	fail := func(err error) (net.Conn, error) { conn.Close(); return nil, err }
	basic := ""
	if u := proxy.User; u != nil {
		pw, _ := u.Password()
		basic = "Basic " + base64.StdEncoding.EncodeToString([]byte(u.Username()+":"+pw))
	}
	resp, err := connect(conn, br, addr, basic)
	if err != nil {
		return fail(err)
	}
	if resp.StatusCode == http.StatusProxyAuthRequired {
		scheme := pickScheme(resp.Header.Values("Proxy-Authenticate"))
		if scheme == "" {
			return fail(fmt.Errorf("%w: the proxy %s asks for %s, which heidi-tray cannot do; give heidi-tray Basic credentials in HTTPS_PROXY, or let Heidi's hosts through without authentication",
				ErrProxyAuth, proxy.Host, offered(resp.Header.Values("Proxy-Authenticate"))))
		}
		auth, err := newAuthenticator(scheme, proxy.Hostname())
		if err != nil {
			return fail(fmt.Errorf("%w: the proxy %s asks for Windows sign-in (%s): %v", ErrProxyAuth, proxy.Host, scheme, err))
		}
		defer auth.Close()
		var challenge []byte
		for leg := 0; resp.StatusCode == http.StatusProxyAuthRequired; leg++ {
			if leg == maxLegs {
				return fail(fmt.Errorf("%w: the proxy %s kept refusing the Windows sign-in (%s) after %d rounds; ask IT whether this user may use it", ErrProxyAuth, proxy.Host, scheme, maxLegs))
			}
			if leg > 0 {
				if challenge = challengeFor(scheme, resp.Header.Values("Proxy-Authenticate")); challenge == nil {
					return fail(fmt.Errorf("%w: the proxy %s refused the Windows sign-in (%s)", ErrProxyAuth, proxy.Host, scheme))
				}
			}
			token, err := auth.Next(challenge)
			if err != nil {
				return fail(fmt.Errorf("%w: Windows sign-in (%s) for the proxy %s: %v", ErrProxyAuth, scheme, proxy.Host, err))
			}
			io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
			resp.Body.Close()
			if resp.Close {
				// The connection-based schemes want the same connection;
				// a proxy that closes it gets a new one (Kerberos copes).
				conn.Close()
				if conn, br, err = dial(); err != nil {
					return nil, err
				}
			}
			if resp, err = connect(conn, br, addr, scheme+" "+base64.StdEncoding.EncodeToString(token)); err != nil {
				return fail(err)
			}
		}
	}
	if resp.StatusCode != http.StatusOK {
		return fail(fmt.Errorf("the proxy %s refused the tunnel to %s: %s", proxy.Host, addr, resp.Status))
	}
	if br.Buffered() > 0 {
		return fail(fmt.Errorf("the proxy %s sent data before the tunnel was up", proxy.Host))
	}
	conn.SetDeadline(time.Time{})
	return conn, nil
}

func connect(conn net.Conn, br *bufio.Reader, addr, authorization string) (*http.Response, error) {
	req := &http.Request{Method: http.MethodConnect, URL: &url.URL{Opaque: addr}, Host: addr, Header: http.Header{}}
	if authorization != "" {
		req.Header.Set("Proxy-Authorization", authorization)
	}
	if err := req.Write(conn); err != nil {
		return nil, fmt.Errorf("talking to the proxy: %w", err)
	}
	resp, err := http.ReadResponse(br, req)
	if err != nil {
		return nil, fmt.Errorf("reading the proxy's answer: %w", err)
	}
	return resp, nil
}

// pickScheme prefers Negotiate (Kerberos, or NTLM inside it) over NTLM.
func pickScheme(offers []string) string {
	for _, want := range []string{"Negotiate", "NTLM"} {
		for _, o := range offers {
			if s, _, _ := strings.Cut(strings.TrimSpace(o), " "); strings.EqualFold(s, want) {
				return want
			}
		}
	}
	return ""
}

func offered(offers []string) string {
	var s []string
	for _, o := range offers {
		name, _, _ := strings.Cut(strings.TrimSpace(o), " ")
		s = append(s, name)
	}
	if len(s) == 0 {
		return "authentication without saying which"
	}
	return strings.Join(s, ", ")
}

// challengeFor is the proxy's token for scheme ("NTLM <base64>").
func challengeFor(scheme string, offers []string) []byte {
	for _, o := range offers {
		s, tok, _ := strings.Cut(strings.TrimSpace(o), " ")
		if strings.EqualFold(s, scheme) && tok != "" {
			if b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(tok)); err == nil {
				return b
			}
		}
	}
	return nil
}
