package tokens

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/heidi-tray/heidi-tray/launcher/heidiapi"
	"github.com/heidi-tray/heidi-tray/launcher/request"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var dr = request.Clinician{Email: "dr.a@clinic.example", UserID: "42", Region: "AU"}

// counter is a fetcher that mints numbered tokens with a given lifetime.
type counter struct {
	n     atomic.Int64
	life  time.Duration
	delay time.Duration
	fail  atomic.Bool
	gate  chan struct{}
}

func (c *counter) Fetch(ctx context.Context, cl request.Clinician) (heidiapi.Token, error) {
	n := c.n.Add(1)
	if c.gate != nil {
		<-c.gate
	}
	time.Sleep(c.delay)
	if c.fail.Load() {
		return heidiapi.Token{}, errors.New("upstream down")
	}
	return heidiapi.Token{JWT: jwt(fmt.Sprintf("tok-%d", n)), Expires: time.Now().Add(c.life), Lifetime: c.life}, nil
}

func TestConcurrentOpensShareOneCall(t *testing.T) {
	f := &counter{life: time.Hour, delay: 50 * time.Millisecond}
	c := New(f, Options{})
	defer c.Close()
	var wg sync.WaitGroup
	toks := make([]string, 100)
	for i := range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tok, err := c.Get(context.Background(), dr)
			if err != nil {
				t.Error(err)
			}
			toks[i] = tok.JWT.Reveal()
		}()
	}
	wg.Wait()
	if n := f.n.Load(); n != 1 {
		t.Fatalf("%d upstream calls for 100 concurrent opens, want 1", n)
	}
	for _, tok := range toks {
		if tok != "tok-1" {
			t.Fatalf("a caller got %q", tok)
		}
	}
	// Warm: no new call.
	c.Get(context.Background(), dr)
	if n := f.n.Load(); n != 1 {
		t.Fatalf("warm get called upstream")
	}
}

func TestClinicianAndRegionAreSeparate(t *testing.T) {
	f := &counter{life: time.Hour}
	c := New(f, Options{})
	defer c.Close()
	other := dr
	other.Region = "UK"
	a, _ := c.Get(context.Background(), dr)
	b, _ := c.Get(context.Background(), other)
	if a.JWT.Equal(b.JWT) || f.n.Load() != 2 {
		t.Fatalf("one token shared across regions")
	}
}

func TestExpiryMarginForcesRefetch(t *testing.T) {
	now := time.Now()
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	f := &counter{life: 10 * time.Minute}
	c := New(f, Options{Now: clock})
	defer c.Close()
	c.Get(context.Background(), dr)
	mu.Lock()
	now = now.Add(8*time.Minute + 30*time.Second) // 1.5 min left: still outside the 1-minute margin
	mu.Unlock()
	if tok, _ := c.Get(context.Background(), dr); tok.JWT.Reveal() != "tok-1" {
		t.Fatalf("token refetched %v before its margin", tok.JWT.Reveal())
	}
	mu.Lock()
	now = now.Add(time.Minute) // 9.5 min: inside the last minute
	mu.Unlock()
	if tok, _ := c.Get(context.Background(), dr); tok.JWT.Reveal() == "tok-1" {
		t.Fatal("a token about to expire was handed out")
	}
}

func TestRefreshNeverReturnsTheStaleToken(t *testing.T) {
	f := &counter{life: time.Hour}
	c := New(f, Options{})
	defer c.Close()
	first, _ := c.Get(context.Background(), dr)
	tok, err := c.Refresh(context.Background(), dr, first.JWT)
	if err != nil || tok.JWT.Equal(first.JWT) {
		t.Fatalf("refresh returned the stale token (%v)", err)
	}
	// A refresh for a token the cache no longer holds uses the newer cached one.
	again, _ := c.Refresh(context.Background(), dr, first.JWT)
	if !again.JWT.Equal(tok.JWT) || f.n.Load() != 2 {
		t.Fatalf("refresh of an already-replaced token fetched again (%d calls)", f.n.Load())
	}
}

func TestBackgroundRenewalBeforeExpiry(t *testing.T) {
	f := &counter{life: 2 * time.Second} // margin 400ms, renewal 400ms before it
	c := New(f, Options{})
	defer c.Close()
	c.Get(context.Background(), dr)
	deadline := time.Now().Add(3 * time.Second)
	for f.n.Load() < 2 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if f.n.Load() < 2 {
		t.Fatal("no background renewal")
	}
	tok, ok := c.Peek(dr)
	if !ok || tok.JWT.Reveal() == "tok-1" {
		t.Fatalf("cache does not hold the renewed token")
	}
}

func TestIdleClinicianIsNotRenewed(t *testing.T) {
	now := time.Now()
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	f := &counter{life: 2 * time.Second}
	c := New(f, Options{Now: clock, ActiveFor: time.Minute})
	defer c.Close()
	c.Get(context.Background(), dr)
	mu.Lock()
	now = now.Add(time.Hour) // the clinician went home; timers still run on real time
	mu.Unlock()
	time.Sleep(1500 * time.Millisecond)
	if n := f.n.Load(); n != 1 {
		t.Fatalf("an idle clinician's token was renewed (%d calls)", n)
	}
	if c.Len() != 0 {
		t.Fatal("an idle clinician's token was kept")
	}
}

func TestClearDropsInFlightFetch(t *testing.T) {
	f := &counter{life: time.Hour, gate: make(chan struct{})}
	c := New(f, Options{})
	defer c.Close()
	done := make(chan struct{})
	go func() { c.Get(context.Background(), dr); close(done) }()
	for f.n.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	c.Clear() // logout while Heidi is still answering
	close(f.gate)
	<-done
	if c.Len() != 0 {
		t.Fatal("a token fetched before logout was cached after it")
	}
}

func TestCallerCancelDoesNotFailOthers(t *testing.T) {
	f := &counter{life: time.Hour, delay: 100 * time.Millisecond}
	c := New(f, Options{})
	defer c.Close()
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { _, err := c.Get(ctx, dr); errc <- err }()
	time.Sleep(10 * time.Millisecond)
	cancel()
	if _, err := c.Get(context.Background(), dr); err != nil {
		t.Fatalf("second caller failed because the first gave up: %v", err)
	}
	if !errors.Is(<-errc, context.Canceled) {
		t.Fatal("the cancelled caller did not get its cancellation")
	}
}

func TestFailureIsNotCached(t *testing.T) {
	f := &counter{life: time.Hour}
	f.fail.Store(true)
	c := New(f, Options{})
	defer c.Close()
	if _, err := c.Get(context.Background(), dr); err == nil {
		t.Fatal("want error")
	}
	f.fail.Store(false)
	if _, err := c.Get(context.Background(), dr); err != nil {
		t.Fatalf("a failure was cached: %v", err)
	}
}

// scripted fetches a 2 s token on the first call, then answers renewals with
// errs in order (nil: a token), counting calls.
type scripted struct {
	mu    sync.Mutex
	calls int
	errs  []error
}

func (s *scripted) Fetch(ctx context.Context, cl request.Clinician) (heidiapi.Token, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	if s.calls > 1 && len(s.errs) > 0 {
		err := s.errs[0]
		s.errs = s.errs[1:]
		if err != nil {
			return heidiapi.Token{}, err
		}
	}
	life := 2 * time.Second // renewed after ~1.2 s
	return heidiapi.Token{JWT: jwt(fmt.Sprintf("tok-%d", s.calls)), Expires: time.Now().Add(life), Lifetime: life}, nil
}

func (s *scripted) n() int { s.mu.Lock(); defer s.mu.Unlock(); return s.calls }

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for !cond() {
		if t.Context().Err() != nil {
			t.Fatalf("never: %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

var errDown = &heidiapi.Error{Kind: heidiapi.Unavailable, Region: "AU", Status: 503}

// A renewal that fails is retried (with back-off) until one succeeds; the
// entry and its renewals go on.
func TestFailedRenewalIsRetried(t *testing.T) {
	f := &scripted{errs: []error{errDown, errDown, nil}}
	c := New(f, Options{RetryBackoff: 10 * time.Millisecond, RenewAttempts: 4})
	defer c.Close()
	c.Get(context.Background(), dr)
	waitFor(t, "the renewal after two failures", func() bool { return f.n() >= 4 })
	tok, ok := c.Peek(dr)
	if !ok || tok.JWT.Reveal() != "tok-4" {
		t.Fatalf("after retries the cache holds %v %v, want tok-4", tok.JWT.Reveal(), ok)
	}
}

// Repeated failures evict the entry: no more renewals, no stale entry.
func TestRepeatedRenewalFailuresEvict(t *testing.T) {
	f := &scripted{errs: []error{errDown, errDown, errDown, errDown, errDown}}
	c := New(f, Options{RetryBackoff: 10 * time.Millisecond, RenewAttempts: 3})
	defer c.Close()
	c.Get(context.Background(), dr)
	waitFor(t, "eviction", func() bool { return c.Len() == 0 })
	time.Sleep(100 * time.Millisecond) // room for a retry that should not come
	if n := f.n(); n != 4 {
		t.Fatalf("%d calls, want 1 fetch + 3 renewal attempts", n)
	}
}

// A refusal no retry can fix (the key was rejected) evicts at once.
func TestRejectedRenewalEvictsAtOnce(t *testing.T) {
	f := &scripted{errs: []error{&heidiapi.Error{Kind: heidiapi.KeyRejected, Region: "AU", Status: 401}, nil}}
	c := New(f, Options{RetryBackoff: 10 * time.Millisecond})
	defer c.Close()
	c.Get(context.Background(), dr)
	waitFor(t, "eviction", func() bool { return c.Len() == 0 })
	time.Sleep(100 * time.Millisecond)
	if n := f.n(); n != 2 {
		t.Fatalf("%d calls after a rejected key, want 2 (no retry)", n)
	}
}

// Prefetch puts the token in the cache: the launch after it makes no call.
func TestPrefetchMakesTheNextLaunchWarm(t *testing.T) {
	f := &counter{life: time.Hour}
	c := New(f, Options{})
	defer c.Close()
	if err := c.Prefetch(context.Background(), dr); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Get(context.Background(), dr); err != nil || f.n.Load() != 1 {
		t.Fatalf("launch after prefetch: %v, %d calls (want 1)", err, f.n.Load())
	}
}
