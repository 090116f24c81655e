package heidiapi_test

import (
	"bufio"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/heidi-tray/heidi-tray/launcher/heidiapi"
	"github.com/heidi-tray/heidi-tray/launcher/heidiapi/fakeheidi"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type warmRig struct {
	fake   *fakeheidi.Server
	ts     *fakeheidi.TLSServer
	conns  *heidiapi.Conns
	client *heidiapi.Client
	base   string
}

// newWarmRig serves the fake over TLS and builds a client over warm
// connections that trusts the fake's test CA (and, with proxy, tunnels
// through it).
func newWarmRig(t *testing.T, proxy *url.URL, o heidiapi.ConnsOptions) *warmRig {
	t.Helper()
	fake := fakeheidi.New(testKey)
	ts, err := fake.StartTLS(0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ts.Close)
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(ts.CAPEM())
	var proxyFunc func(*http.Request) (*url.URL, error)
	if proxy != nil {
		proxyFunc = http.ProxyURL(proxy)
	}
	httpc, conns := heidiapi.NewWarmClient(heidiapi.NewTransport(proxyFunc, roots), o)
	t.Cleanup(conns.Stop)
	base := ts.URL + fakeheidi.BasePath
	return &warmRig{fake: fake, ts: ts, conns: conns, base: base,
		client: &heidiapi.Client{HTTP: httpc, Base: func(string) (string, error) { return base, nil }, Backoff: 10 * time.Millisecond}}
}

// eventually waits (without a time limit of its own: the test's deadline
// applies) until cond holds.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for !cond() {
		if t.Context().Err() != nil {
			t.Fatalf("never: %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Warm dials before the first request; every request after it rides that one
// connection: the fake sees one TLS handshake for the lot.
func TestWarmConnectionIsSetUpOnceAndReused(t *testing.T) {
	r := newWarmRig(t, nil, heidiapi.ConnsOptions{})
	r.conns.Warm(r.base)
	eventually(t, "the connection is ready", func() bool { return r.conns.Ready(r.base) })
	if n := r.ts.Handshakes(); n != 1 {
		t.Fatalf("%d handshakes after Warm, want 1", n)
	}
	for i := 0; i < 5; i++ {
		if _, err := fetch(r.client, testKey); err != nil {
			t.Fatal(err)
		}
	}
	if n := r.ts.Handshakes(); n != 1 {
		t.Fatalf("%d handshakes after 5 requests, want 1 (the warm connection)", n)
	}
	if calls := r.fake.Calls(); len(calls) != 5 || calls[0].Proto != "HTTP/2.0" {
		t.Fatalf("%d calls, first over %s; want 5 over HTTP/2.0", len(calls), calls[0].Proto)
	}
}

// A server that drops the connection gets a new one dialled in the
// background, before anyone asks; the next request uses it.
func TestRedialsInTheBackgroundAfterTheServerCloses(t *testing.T) {
	r := newWarmRig(t, nil, heidiapi.ConnsOptions{MinLife: time.Hour}) // young, but it served a request
	if _, err := fetch(r.client, testKey); err != nil {
		t.Fatal(err)
	}
	r.ts.CloseClientConnections()
	eventually(t, "a second connection without a request", func() bool { return r.ts.Handshakes() == 2 && r.conns.Ready(r.base) })
	if len(r.fake.Calls()) != 1 {
		t.Fatalf("the re-dial sent a request: %d calls", len(r.fake.Calls()))
	}
	if _, err := fetch(r.client, testKey); err != nil {
		t.Fatal(err)
	}
	if n := r.ts.Handshakes(); n != 2 {
		t.Fatalf("%d handshakes, want 2: the request should use the re-dialled connection", n)
	}
}

// Heidi down: a failed dial is retried after a back-off, not at once and not
// in a loop. With a back-off far longer than the test, exactly one dial
// happens until a request asks for another.
func TestFailedDialBacksOffInsteadOfStorming(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var accepted atomic.Int64
	done := make(chan struct{})
	go func() { // accepts and hangs up: TLS fails
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			c.Close()
		}
	}()
	defer func() { ln.Close(); <-done }()
	tr := heidiapi.NewTransport(nil, nil)
	conns := heidiapi.NewConns(tr, heidiapi.ConnsOptions{MinBackoff: time.Hour})
	defer conns.Stop()
	base := "https://" + ln.Addr().String() + "/api"
	conns.Warm(base)
	eventually(t, "the first dial", func() bool { return accepted.Load() == 1 })
	time.Sleep(100 * time.Millisecond) // room for a storm to show
	if n := accepted.Load(); n != 1 || conns.Dials() != 1 {
		t.Fatalf("%d connections, %d dials while backing off; want 1", n, conns.Dials())
	}
	conns.Warm(base) // a warm-up does not cut the back-off short
	req, _ := http.NewRequest("GET", base, nil)
	if _, err := conns.RoundTrip(req); err == nil {
		t.Fatal("a request to a server that hangs up succeeded")
	}
	if n := accepted.Load(); n != 2 {
		t.Fatalf("%d connections; a launch should dial once at once", n)
	}
}

// Behind a proxy the warm connection is a CONNECT tunnel, kept and reused
// the same way.
func TestProxyTunnelIsKeptWarm(t *testing.T) {
	p := startConnectProxy(t)
	r := newWarmRig(t, p.url, heidiapi.ConnsOptions{})
	r.conns.Warm(r.base)
	eventually(t, "the tunnel is ready", func() bool { return r.conns.Ready(r.base) })
	for i := 0; i < 3; i++ {
		if _, err := fetch(r.client, testKey); err != nil {
			t.Fatal(err)
		}
	}
	if n, h := p.tunnels.Load(), r.ts.Handshakes(); n != 1 || h != 1 {
		t.Fatalf("%d tunnels, %d handshakes for 3 requests; want 1 and 1", n, h)
	}
	if proto := r.fake.Calls()[0].Proto; proto != "HTTP/2.0" {
		t.Fatalf("through the tunnel: %s, want HTTP/2.0", proto)
	}
}

func TestStopEndsEverything(t *testing.T) {
	r := newWarmRig(t, nil, heidiapi.ConnsOptions{})
	if _, err := fetch(r.client, testKey); err != nil {
		t.Fatal(err)
	}
	r.conns.Stop()
	r.conns.Stop() // idempotent
	_, err := fetch(r.client, testKey)
	if !errors.Is(err, heidiapi.ErrStopped) {
		t.Fatalf("a request after Stop: %v", err)
	}
	// goleak (TestMain) checks no connection goroutine is left.
}

type connectProxy struct {
	url     *url.URL
	tunnels atomic.Int64
}

// startConnectProxy is a minimal HTTP CONNECT proxy on loopback.
func startConnectProxy(t *testing.T) *connectProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &connectProxy{url: &url.URL{Scheme: "http", Host: ln.Addr().String()}}
	done := make(chan struct{})
	var open []net.Conn
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			open = append(open, c)
			go p.serve(c)
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
		for _, c := range open {
			c.Close()
		}
	})
	return p
}

func (p *connectProxy) serve(c net.Conn) {
	br := bufio.NewReader(c)
	req, err := http.ReadRequest(br)
	if err != nil || req.Method != http.MethodConnect {
		c.Close()
		return
	}
	up, err := net.Dial("tcp", req.Host)
	if err != nil {
		c.Close()
		return
	}
	p.tunnels.Add(1)
	io.WriteString(c, "HTTP/1.1 200 Connection established\r\n\r\n")
	go func() { io.Copy(up, br); up.Close() }()
	io.Copy(c, up)
	c.Close()
	up.Close()
}
