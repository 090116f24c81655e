package heidiapi

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"sync"
	"time"

	"github.com/heidi-tray/heidi-tray/launcher/netproxy"
)

// Conns keeps one connection per Heidi host open and ready, so a launch pays
// one round trip (the JWT request) instead of three (TCP, TLS, request). It is
// the http.RoundTripper of the client NewWarmClient returns.
//
// Each https host it has been asked for (Warm, or a request) gets one
// connection of its own (HTTP/2 where the server offers it; through the proxy's
// CONNECT tunnel when a proxy applies). The connection carries HTTP/2 health
// pings (SendPingTimeout), so a silently dead one is found and closed. When a
// connection ends (the server closed it when idle, the network changed), it is
// dialled again in the background: at once if it had lived a while or served
// a request, with doubling back-off if dials fail or connections die young
// and unused, so Heidi being down never causes a re-dial storm. Timers are the only thing that runs while
// idle: no polling. After the machine slept (wall clock ran ahead of the
// monotonic one), connections are assumed dead and dialled again.
//
// Plain http (the sandbox, tests on loopback) goes straight to the transport.
// Stop closes every connection and waits for every dial.
type Conns struct {
	tr  *http.Transport
	log *slog.Logger
	opt ConnsOptions

	ctx    context.Context // ends at Stop: cancels dials
	cancel context.CancelFunc
	wg     sync.WaitGroup // dials in flight, the resume watcher

	mu      sync.Mutex
	hosts   map[string]*hostConn
	stopped bool
	dials   int
	last    time.Time // when the clock was last checked for a sleep
	slept   func()    // opt.OnResume
	// sleptFor is how long the machine slept between two readings of the
	// clock (tests replace it).
	sleptFor func(now, last time.Time) time.Duration
}

// ConnsOptions tune Conns; zero values take the defaults.
type ConnsOptions struct {
	// MinBackoff and MaxBackoff bound the delay between failed dials
	// (defaults 1 s and 5 min); it doubles per failure, with jitter.
	MinBackoff, MaxBackoff time.Duration
	// MinLife: a connection that ends younger than this without having
	// served a request counts as a failure for the back-off (default 20 s).
	MinLife time.Duration
	// DialTimeout bounds one dial, TCP to TLS (default 15 s).
	DialTimeout time.Duration
	// SleepCheck is how often the clock is compared for a sleep while idle
	// (default 60 s); a launch also checks it.
	SleepCheck time.Duration
	// OnResume is called (in its own goroutine) after the machine slept.
	OnResume func()
	Log      *slog.Logger
}

type hostConn struct {
	addr     string // host:port
	cc       *http.ClientConn
	born     time.Time
	used     *http.ClientConn // the last connection a response came back on
	dialing  chan struct{}    // closed when the dial in flight ends; nil when none
	lastErr  error
	failures int
	redial   *time.Timer
}

// Keep-alive settings of the transport (docs/performance.md).
const (
	// pingAfter: a connection with no frame from Heidi for this long sends an
	// HTTP/2 PING; one unanswered for pingTimeout is closed (and re-dialled).
	pingAfter   = 45 * time.Second
	pingTimeout = 15 * time.Second
	// idleTimeout: connections of the transport's own pool (requests beyond
	// the warm connection's stream limit) close after this long unused.
	idleTimeout = 10 * time.Minute
)

// NewTransport is the transport to Heidi: HTTPS through the proxy that
// proxy picks (nil: none), CONNECT tunnels answering Windows sign-in
// challenges (netproxy), the system's trust roots (no pinning, so
// TLS-inspecting proxies work) unless roots are given, HTTP/2 with health
// pings.
func NewTransport(proxy func(*http.Request) (*url.URL, error), roots *x509.CertPool) *http.Transport {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.ResponseHeaderTimeout = 10 * time.Second
	tr.IdleConnTimeout = idleTimeout
	tr.HTTP2 = &http.HTTP2Config{SendPingTimeout: pingAfter, PingTimeout: pingTimeout}
	// netproxy dials TLS itself: offer h2 in ALPN, or every connection
	// would be HTTP/1.1.
	tr.TLSClientConfig = &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12, NextProtos: []string{"h2", "http/1.1"}}
	if proxy == nil {
		proxy = func(*http.Request) (*url.URL, error) { return nil, nil }
	}
	netproxy.ConfigureWith(tr, proxy)
	return tr
}

// NewConns returns warm connections over tr; call Stop when done.
func NewConns(tr *http.Transport, o ConnsOptions) *Conns {
	if o.MinBackoff <= 0 {
		o.MinBackoff = time.Second
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = 5 * time.Minute
	}
	if o.MinLife <= 0 {
		o.MinLife = 20 * time.Second
	}
	if o.DialTimeout <= 0 {
		o.DialTimeout = 15 * time.Second
	}
	if o.SleepCheck <= 0 {
		o.SleepCheck = time.Minute
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	c := &Conns{tr: tr, log: o.Log, opt: o, ctx: ctx, cancel: cancel, hosts: map[string]*hostConn{},
		last: time.Now(), slept: o.OnResume,
		sleptFor: func(now, last time.Time) time.Duration { return now.Round(0).Sub(last.Round(0)) - now.Sub(last) }}
	c.wg.Add(1)
	go c.watchSleep()
	return c
}

// ErrStopped is returned for requests made after Stop.
var ErrStopped = errors.New("heidi-tray is shutting down")

// hostKey is host:port of an https URL, or "" for anything else.
func hostKey(scheme, host string) string {
	if scheme != "https" || host == "" {
		return ""
	}
	if _, _, err := net.SplitHostPort(host); err != nil {
		return net.JoinHostPort(host, "443")
	}
	return host
}

// Warm starts a connection to base's host in the background, if there is
// none yet; it never waits.
func (c *Conns) Warm(base string) {
	u, err := url.Parse(base)
	if err != nil {
		return
	}
	key := hostKey(u.Scheme, u.Host)
	if key == "" {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopped {
		return
	}
	h := c.host(key)
	if h.cc == nil && h.dialing == nil {
		c.dialLocked(h)
	}
}

// Dials is how many connections have been dialled (tests, the bench).
func (c *Conns) Dials() int { c.mu.Lock(); defer c.mu.Unlock(); return c.dials }

// Ready reports whether base's host has an open connection now.
func (c *Conns) Ready(base string) bool {
	u, err := url.Parse(base)
	if err != nil {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	h := c.hosts[hostKey(u.Scheme, u.Host)]
	return h != nil && h.cc != nil && h.cc.Err() == nil
}

func (c *Conns) host(key string) *hostConn {
	h := c.hosts[key]
	if h == nil {
		h = &hostConn{addr: key}
		c.hosts[key] = h
	}
	return h
}

// RoundTrip sends req on its host's warm connection, dialling it first if
// needed (a request that arrives during a dial waits for that dial).
func (c *Conns) RoundTrip(req *http.Request) (*http.Response, error) {
	key := hostKey(req.URL.Scheme, req.URL.Host)
	if key == "" {
		return c.tr.RoundTrip(req)
	}
	c.checkSleep()
	for attempt := 0; ; attempt++ {
		cc, err := c.conn(req.Context(), key)
		if err != nil {
			return nil, err
		}
		if err := cc.Reserve(); err != nil {
			if cc.Err() == nil { // at its stream limit: let the pool open another
				return c.tr.RoundTrip(req)
			}
			c.dead(key, cc)
			if attempt == 0 {
				continue
			}
			return nil, err
		}
		resp, err := cc.RoundTrip(req)
		if err == nil {
			c.mu.Lock()
			if h := c.hosts[key]; h != nil {
				h.used = cc
			}
			c.mu.Unlock()
		}
		// The server may close an idle connection just as a request goes out;
		// a GET without a body is safe to send once more on a new one.
		if err != nil && attempt == 0 && cc.Err() != nil && req.Method == http.MethodGet && req.Body == nil && req.Context().Err() == nil {
			c.dead(key, cc)
			continue
		}
		return resp, err
	}
}

// conn returns key's open connection, waiting for a dial if there is none.
func (c *Conns) conn(ctx context.Context, key string) (*http.ClientConn, error) {
	c.mu.Lock()
	if c.stopped {
		c.mu.Unlock()
		return nil, ErrStopped
	}
	h := c.host(key)
	if h.cc != nil && h.cc.Err() != nil {
		h.cc = nil
	}
	if h.cc != nil {
		cc := h.cc
		c.mu.Unlock()
		return cc, nil
	}
	if h.dialing == nil {
		c.dialLocked(h) // a launch does not wait for a back-off timer
	}
	done := h.dialing
	c.mu.Unlock()
	select {
	case <-done:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if h.cc == nil {
		if h.lastErr == nil {
			return nil, ErrStopped
		}
		return nil, h.lastErr
	}
	return h.cc, nil
}

// dead drops cc if it is still key's connection; the next request dials.
func (c *Conns) dead(key string, cc *http.ClientConn) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if h := c.hosts[key]; h != nil && h.cc == cc {
		h.cc = nil
	}
	cc.Close()
}

// dialLocked starts a dial of h; c.mu is held.
func (c *Conns) dialLocked(h *hostConn) {
	if h.redial != nil {
		h.redial.Stop()
		h.redial = nil
	}
	done := make(chan struct{})
	h.dialing = done
	c.dials++
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		ctx, cancel := context.WithTimeout(c.ctx, c.opt.DialTimeout)
		t0 := time.Now()
		cc, err := c.tr.NewClientConn(ctx, "https", h.addr)
		cancel()
		c.mu.Lock()
		defer c.mu.Unlock()
		defer close(done)
		h.dialing = nil
		if err != nil {
			h.lastErr = fmt.Errorf("connecting to %s: %w", h.addr, err)
			if c.stopped {
				return
			}
			h.failures++
			wait := c.backoff(h.failures)
			c.log.Warn("could not connect to Heidi; trying again later", "host", h.addr, "err", err, "retry_in", wait.Round(time.Millisecond).String())
			c.scheduleLocked(h, wait)
			return
		}
		if c.stopped {
			cc.Close()
			return
		}
		h.cc, h.born, h.lastErr = cc, time.Now(), nil
		c.log.Debug("connected to Heidi", "host", h.addr, "took", time.Since(t0).Round(time.Millisecond).String())
		cc.SetStateHook(func(cc *http.ClientConn) {
			if cc.Err() != nil {
				c.closed(h, cc)
			}
		})
	}()
}

// closed re-dials after h's connection cc ended: at once if it lived or
// served a request (an idle close), after a back-off if connections keep
// dying young unused (a server that accepts and hangs up).
func (c *Conns) closed(h *hostConn, cc *http.ClientConn) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if h.cc == cc {
		h.cc = nil
	}
	if c.stopped || h.cc != nil || h.dialing != nil || h.redial != nil {
		return
	}
	wait := time.Duration(0)
	if time.Since(h.born) < c.opt.MinLife && h.used != cc {
		h.failures++
		wait = c.backoff(h.failures)
	} else {
		h.failures = 0
	}
	c.log.Debug("connection to Heidi ended; dialling again", "host", h.addr, "in", wait.String())
	c.scheduleLocked(h, wait)
}

func (c *Conns) scheduleLocked(h *hostConn, wait time.Duration) {
	if wait <= 0 {
		c.dialLocked(h)
		return
	}
	h.redial = time.AfterFunc(wait, func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		h.redial = nil
		if !c.stopped && h.cc == nil && h.dialing == nil {
			c.dialLocked(h)
		}
	})
}

// backoff is MinBackoff doubled per failure, capped, ±20% jitter.
func (c *Conns) backoff(failures int) time.Duration {
	d := c.opt.MinBackoff
	for i := 1; i < failures && d < c.opt.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, c.opt.MaxBackoff)
	return d - d/5 + rand.N(d*2/5+1)
}

// checkSleep notices a sleep since the last check: the wall clock ran ahead
// of the monotonic one, which stands still while the machine sleeps. Every
// connection is then presumed dead (NAT and proxy state rarely survive) and
// dialled again, and OnResume runs.
func (c *Conns) checkSleep() {
	now := time.Now()
	c.mu.Lock()
	last := c.last
	c.last = now
	if c.stopped {
		c.mu.Unlock()
		return
	}
	slept := c.sleptFor(now, last)
	if slept < 30*time.Second {
		c.mu.Unlock()
		return
	}
	c.log.Info("the machine slept; reconnecting to Heidi", "slept", slept.Round(time.Second).String())
	for _, h := range c.hosts {
		if h.cc != nil {
			h.cc.SetStateHook(nil)
			h.cc.Close()
			h.cc = nil
		}
		h.failures = 0
		if h.dialing == nil {
			c.dialLocked(h)
		}
	}
	c.mu.Unlock()
	if c.slept != nil {
		c.wg.Add(1)
		go func() { defer c.wg.Done(); c.slept() }()
	}
}

// watchSleep checks the clock every SleepCheck while idle (one timer, no
// work between), so a resume is noticed without waiting for a launch.
func (c *Conns) watchSleep() {
	defer c.wg.Done()
	t := time.NewTimer(c.opt.SleepCheck)
	defer t.Stop()
	for {
		select {
		case <-c.ctx.Done():
			return
		case <-t.C:
			c.checkSleep()
			t.Reset(c.opt.SleepCheck)
		}
	}
}

// Stop closes every connection, cancels dials in flight and waits for them.
func (c *Conns) Stop() {
	c.mu.Lock()
	if c.stopped {
		c.mu.Unlock()
		return
	}
	c.stopped = true
	for _, h := range c.hosts {
		if h.redial != nil {
			h.redial.Stop()
			h.redial = nil
		}
		if h.cc != nil {
			h.cc.SetStateHook(nil)
			h.cc.Close()
			h.cc = nil
		}
	}
	c.mu.Unlock()
	c.cancel()
	c.wg.Wait()
	c.tr.CloseIdleConnections()
}

// TrustRoots is the system's trust roots plus the certificates in the PEM file
// caFile: for the bench and tests, whose fake Heidi has a test CA. The tray
// uses it only for an api_base override (docs/performance.md), never for
// Heidi's own hosts.
func TrustRoots(caFile string) (*x509.CertPool, error) {
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("reading the extra CA file: %w", err)
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("the extra CA file %s holds no PEM certificate", caFile)
	}
	return pool, nil
}

// NewWarmClient is the client for Heidi over warm connections (Conns); the
// caller owns the Conns and stops it.
func NewWarmClient(tr *http.Transport, o ConnsOptions) (*http.Client, *Conns) {
	c := NewConns(tr, o)
	return &http.Client{Transport: c, Timeout: 15 * time.Second}, c
}
