// Package tokens caches clinicians' JWTs in memory (never on disk), shares one
// upstream call among concurrent requests for the same clinician, and renews a
// token in the background before it expires while its clinician is active. A
// failed renewal is retried with back-off; after RenewAttempts failures (or a
// refusal no retry can fix) the entry is evicted.
package tokens

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/heidi-tray/heidi-tray/launcher/heidiapi"
	"github.com/heidi-tray/heidi-tray/launcher/request"
)

// Fetcher gets a fresh token from Heidi.
type Fetcher interface {
	Fetch(ctx context.Context, c request.Clinician) (heidiapi.Token, error)
}

// FetchFunc adapts a function to Fetcher.
type FetchFunc func(ctx context.Context, c request.Clinician) (heidiapi.Token, error)

func (f FetchFunc) Fetch(ctx context.Context, c request.Clinician) (heidiapi.Token, error) {
	return f(ctx, c)
}

// Cache is safe for concurrent use. Close stops its background renewals.
type Cache struct {
	fetcher Fetcher
	log     *slog.Logger
	now     func() time.Time
	// FetchTimeout bounds one upstream exchange, independent of any one caller.
	fetchTimeout time.Duration
	// activeFor: a clinician seen within this window keeps getting renewals.
	activeFor time.Duration
	// renewAttempts: a renewal failing this many times in a row evicts.
	renewAttempts int
	retryBackoff  time.Duration

	group singleflight.Group

	mu      sync.Mutex
	entries map[request.Clinician]*entry
	gen     uint64 // bumped by Clear: fetches begun before it are not stored
	closed  bool
	wg      sync.WaitGroup
}

type entry struct {
	tok      heidiapi.Token
	lastUsed time.Time
	timer    *time.Timer
	failures int // renewals failed in a row
}

// Options tune a Cache; zero values take the defaults.
type Options struct {
	Now          func() time.Time
	FetchTimeout time.Duration // default 20 s
	ActiveFor    time.Duration // default 4 h
	// RenewAttempts failed renewals in a row evict a token (default 4);
	// RetryBackoff is the first wait before retrying one (default 15 s),
	// doubled per failure.
	RenewAttempts int
	RetryBackoff  time.Duration
	Log           *slog.Logger
}

// New returns a cache in front of f.
func New(f Fetcher, o Options) *Cache {
	c := &Cache{fetcher: f, now: o.Now, fetchTimeout: o.FetchTimeout, activeFor: o.ActiveFor, log: o.Log,
		renewAttempts: o.RenewAttempts, retryBackoff: o.RetryBackoff, entries: map[request.Clinician]*entry{}}
	if c.renewAttempts <= 0 {
		c.renewAttempts = 4
	}
	if c.retryBackoff <= 0 {
		c.retryBackoff = 15 * time.Second
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.fetchTimeout == 0 {
		c.fetchTimeout = 20 * time.Second
	}
	if c.activeFor == 0 {
		c.activeFor = 4 * time.Hour
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	return c
}

// margin is how long before expiry a token stops being handed out: a page
// must have time to use it. A fifth of its life, at most a minute.
func margin(life time.Duration) time.Duration { return min(life/5, time.Minute) }

// renewAhead is how long before the margin the background renewal runs.
func renewAhead(life time.Duration) time.Duration { return min(life/5, 2*time.Minute) }

func (c *Cache) usable(e *entry) bool {
	return e != nil && c.now().Before(e.tok.Expires.Add(-margin(e.tok.Lifetime)))
}

// Get returns a valid token for the clinician, fetching one if needed.
func (c *Cache) Get(ctx context.Context, cl request.Clinician) (heidiapi.Token, error) {
	c.mu.Lock()
	if e := c.entries[cl]; c.usable(e) {
		e.lastUsed = c.now()
		tok := e.tok
		c.mu.Unlock()
		return tok, nil
	}
	c.mu.Unlock()
	return c.fetch(ctx, cl)
}

// Peek returns the cached token without fetching (status, tests).
func (c *Cache) Peek(cl request.Clinician) (heidiapi.Token, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.entries[cl]
	if !c.usable(e) {
		return heidiapi.Token{}, false
	}
	return e.tok, true
}

// Refresh returns a token other than stale: the widget has judged stale
// expired, so handing it back would loop.
func (c *Cache) Refresh(ctx context.Context, cl request.Clinician, stale heidiapi.JWT) (heidiapi.Token, error) {
	c.mu.Lock()
	if e := c.entries[cl]; e != nil && e.tok.JWT.Equal(stale) {
		c.drop(cl, e)
	}
	c.mu.Unlock()
	for i := 0; i < 2; i++ { // a fetch already in flight may still carry stale
		tok, err := c.Get(ctx, cl)
		if err != nil || !tok.JWT.Equal(stale) {
			return tok, err
		}
		c.mu.Lock()
		if e := c.entries[cl]; e != nil {
			c.drop(cl, e)
		}
		c.mu.Unlock()
	}
	return c.fetch(ctx, cl)
}

// Clear forgets every token (logout), and any fetch still in flight.
func (c *Cache) Clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for cl, e := range c.entries {
		c.drop(cl, e)
	}
	c.gen++
}

// Forget drops the clinician's cached token (a newer one is on its way).
func (c *Cache) Forget(cl request.Clinician) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e := c.entries[cl]; e != nil {
		c.drop(cl, e)
	}
}

// Len is the number of cached tokens.
func (c *Cache) Len() int { c.mu.Lock(); defer c.mu.Unlock(); return len(c.entries) }

// Close stops background renewals and waits for them.
func (c *Cache) Close() {
	c.Clear()
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	c.wg.Wait()
}

func (c *Cache) drop(cl request.Clinician, e *entry) {
	if e.timer != nil {
		e.timer.Stop()
	}
	delete(c.entries, cl)
}

func sfKey(cl request.Clinician) string { return cl.Region + "\x00" + cl.Email + "\x00" + cl.UserID }

// fetch runs one upstream call per clinician at a time; the call runs under
// its own timeout so one caller giving up does not fail the others.
func (c *Cache) fetch(ctx context.Context, cl request.Clinician) (heidiapi.Token, error) {
	ch := c.group.DoChan(sfKey(cl), func() (any, error) {
		c.mu.Lock()
		gen := c.gen
		c.mu.Unlock()
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.fetchTimeout)
		defer cancel()
		tok, err := c.fetcher.Fetch(fctx, cl)
		if err != nil {
			return heidiapi.Token{}, err
		}
		c.store(cl, tok, gen)
		return tok, nil
	})
	select {
	case r := <-ch:
		if r.Err != nil {
			return heidiapi.Token{}, r.Err
		}
		return r.Val.(heidiapi.Token), nil
	case <-ctx.Done():
		return heidiapi.Token{}, ctx.Err()
	}
}

func (c *Cache) store(cl request.Clinician, tok heidiapi.Token, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || gen != c.gen {
		return // logged out (or shut down) while this fetch was in flight
	}
	e := c.entries[cl]
	if e == nil {
		e = &entry{lastUsed: c.now()}
		c.entries[cl] = e
	} else if e.timer != nil {
		e.timer.Stop()
	}
	e.tok = tok
	e.lastUsed = c.now()
	e.failures = 0
	wait := tok.Expires.Sub(c.now()) - margin(tok.Lifetime) - renewAhead(tok.Lifetime)
	e.timer = time.AfterFunc(max(wait, 0), func() { c.renew(cl, e) })
}

// renew runs on the entry's timer: one timer per token, no polling.
func (c *Cache) renew(cl request.Clinician, e *entry) {
	c.mu.Lock()
	if c.closed || c.entries[cl] != e {
		c.mu.Unlock()
		return
	}
	if c.now().Sub(e.lastUsed) > c.activeFor {
		c.drop(cl, e) // clinician gone idle: let the token lapse
		c.mu.Unlock()
		return
	}
	c.wg.Add(1)
	c.mu.Unlock()
	defer c.wg.Done()
	ctx, cancel := context.WithTimeout(context.Background(), c.fetchTimeout)
	defer cancel()
	_, err := c.fetch(ctx, cl)
	if err == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || c.entries[cl] != e {
		return // replaced (a launch fetched one) or dropped meanwhile
	}
	e.failures++
	wait := c.retryBackoff << (e.failures - 1)
	permanent := heidiapi.IsKind(err, heidiapi.KeyRejected) || heidiapi.IsKind(err, heidiapi.BadRequest)
	if permanent || e.failures >= c.renewAttempts {
		c.drop(cl, e)
		c.log.Warn("background token renewal failed; token dropped, the next launch will fetch one", "clinician", cl, "failures", e.failures, "err", err)
		return
	}
	c.log.Warn("background token renewal failed; retrying", "clinician", cl, "failures", e.failures, "retry_in", wait.String(), "err", err)
	e.timer = time.AfterFunc(wait, func() { c.renew(cl, e) })
}

// Prefetch fetches the clinician's token now, unless one is cached, so their
// next launch costs no round trip; it counts as activity for renewals.
func (c *Cache) Prefetch(ctx context.Context, cl request.Clinician) error {
	_, err := c.Get(ctx, cl)
	return err
}

// Touch marks a clinician active (a page is open for them).
func (c *Cache) Touch(cl request.Clinician) {
	c.mu.Lock()
	if e := c.entries[cl]; e != nil {
		e.lastUsed = c.now()
	}
	c.mu.Unlock()
}
