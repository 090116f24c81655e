// Package heidiapi exchanges a clinic's API key for a clinician's JWT at
// Heidi's JWT endpoint, and turns every way that can fail into an error that
// names the region and the next step.
package heidiapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/heidi-tray/heidi-tray/launcher/internal/loopback"
	"github.com/heidi-tray/heidi-tray/launcher/netproxy"
)

// Environments: production uses the regional hosts; staging is Heidi's shared
// pre-production host.
const (
	Production = "production"
	Staging    = "staging"
)

// Regions Heidi serves; AU is the widget's default.
var Regions = []string{"AU", "EU", "UK", "US", "CA"}

// ValidateRegion accepts the regions Heidi serves.
func ValidateRegion(r string) error {
	if !slices.Contains(Regions, r) {
		return fmt.Errorf("%q is not a Heidi region; use one of %s", clip(r), strings.Join(Regions, ", "))
	}
	return nil
}

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// TestEmail is the identity Heidi documents for test JWT requests.
const TestEmail = "test@heidihealth.com"

// JWTPath is appended to the base URL.
const JWTPath = "/jwt"

// BaseURL is the open-api base for a region and environment; override, when
// set, wins (the api_base setting, used by the sandbox and the tests).
func BaseURL(environment, region, override string) (string, error) {
	if override != "" {
		return override, ValidateBase(override)
	}
	switch environment {
	case Production, "":
		return "https://" + strings.ToLower(region) + ".api.heidihealth.com/api/v2/ml-scribe/open-api", nil
	case Staging:
		return "https://registrar.api.heidihealth.com/api/v2/ml-scribe/open-api", nil
	}
	return "", fmt.Errorf("environment %q is not known; use %q or %q", environment, Production, Staging)
}

// ValidateBase accepts https URLs, and plain http only to loopback hosts.
func ValidateBase(s string) error {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("api_base %q is not a plain http(s) URL", s)
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if loopback.Host(u.Hostname()) {
			return nil
		}
		return fmt.Errorf("api_base %q uses plain http to a non-loopback host; use https", s)
	}
	return fmt.Errorf("api_base %q must start with https://", s)
}

// Kind classifies failures by what the user should do next.
type Kind int

const (
	KeyRejected Kind = iota + 1 // 401/403: wrong, revoked or other-region key
	BadRequest                  // 400/422: Heidi refused the identity
	RateLimited                 // 429
	Unavailable                 // 5xx, timeouts, network
	Malformed                   // 2xx that is not a usable token
)

func (k Kind) String() string {
	return [...]string{"", "key_rejected", "bad_request", "rate_limited", "unavailable", "malformed_response"}[k]
}

// Error is a failed JWT request. Its message is safe to show and to log: it
// never carries the key or a token.
type Error struct {
	Kind       Kind
	Region     string
	Status     int           // HTTP status, 0 for network failures
	Detail     string        // Heidi's detail.msg (or a clipped body), sanitized
	RetryAfter time.Duration // for RateLimited
	Err        error         // underlying network error, if any
}

func (e *Error) Unwrap() error { return e.Err }

func (e *Error) Error() string {
	detail := ""
	if e.Detail != "" {
		detail = " (Heidi said: " + e.Detail + ")"
	}
	switch e.Kind {
	case KeyRejected:
		return fmt.Sprintf("Heidi rejected the %s API key (HTTP %d)%s; check it is the key for region %s and set it again with 'heidi-tray key set --region %s'", e.Region, e.Status, detail, e.Region, e.Region)
	case BadRequest:
		return fmt.Sprintf("Heidi refused the request for region %s (HTTP %d)%s; check the clinician's email and EMR user id", e.Region, e.Status, detail)
	case RateLimited:
		return fmt.Sprintf("Heidi is rate limiting region %s; try again in %s", e.Region, e.RetryAfter.Round(time.Second))
	case Unavailable:
		if e.Status != 0 {
			return fmt.Sprintf("Heidi (%s) is unavailable (HTTP %d)%s; try again shortly", e.Region, e.Status, detail)
		}
		return fmt.Sprintf("cannot reach Heidi (%s): %s; check the network or proxy", e.Region, sanitize(errText(e.Err)))
	case Malformed:
		return fmt.Sprintf("Heidi (%s) sent a response heidi-tray cannot use: %s; try again, and report it if it persists", e.Region, e.Detail)
	}
	return "heidi request failed"
}

func errText(err error) string {
	if err == nil {
		return "unknown error"
	}
	var ue *url.Error
	if errors.As(err, &ue) { // drop the URL: it holds the clinician's email
		err = ue.Err
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "timed out"
	}
	return err.Error()
}

// IsKind reports whether err is a heidiapi *Error of kind k.
func IsKind(err error, k Kind) bool {
	var e *Error
	return errors.As(err, &e) && e.Kind == k
}

// Token is a JWT with its expiry in local clock time.
type Token struct {
	JWT JWT
	// Expires is when the token stops working, on this machine's clock:
	// the lifetime is measured against Heidi's Date header, so a wrong local
	// clock does not shorten or stretch it.
	Expires  time.Time
	Lifetime time.Duration
}

// Client calls the JWT endpoint.
type Client struct {
	HTTP *http.Client
	// Base gives the open-api base URL for a region.
	Base func(region string) (string, error)
	// Attempts bounds retries of unavailable/rate-limited answers (default 3).
	Attempts int
	// Backoff is the first retry delay (default 250 ms), doubled each time, with jitter.
	Backoff time.Duration
	// MaxRetryAfter caps how long a 429's Retry-After is waited in line (default 5 s);
	// a longer one is returned to the caller as RateLimited.
	MaxRetryAfter time.Duration
	// UserAgent identifies heidi-tray and its version to Heidi.
	UserAgent string
	// Now is the local clock (tests).
	Now func() time.Time
}

// Limits on what Heidi may send.
const (
	maxBody  = 64 << 10
	maxToken = 16 << 10
)

// NewHTTPClient is the client for Heidi: the proxy from the environment or
// the system, and the system's trust roots (no pinning, so TLS-inspecting
// proxies work).
func NewHTTPClient() *http.Client {
	return &http.Client{Transport: NewTransport(netproxy.Func(), nil), Timeout: 15 * time.Second}
}

// APIKey is the clinic key as the client needs it; the keystore's type
// satisfies it without this package importing the keystore.
type APIKey interface{ Reveal() string }

// FetchJWT asks Heidi for the clinician's JWT, retrying transient failures.
func (c *Client) FetchJWT(ctx context.Context, region string, key APIKey, email, userID string) (Token, error) {
	attempts := c.Attempts
	if attempts <= 0 {
		attempts = 3
	}
	delay := c.Backoff
	if delay <= 0 {
		delay = 250 * time.Millisecond
	}
	maxRA := c.MaxRetryAfter
	if maxRA <= 0 {
		maxRA = 5 * time.Second
	}
	var last error
	for i := 0; i < attempts; i++ {
		tok, err := c.fetchOnce(ctx, region, key, email, userID)
		if err == nil {
			return tok, nil
		}
		last = err
		var he *Error
		if !errors.As(err, &he) || ctx.Err() != nil {
			return Token{}, err
		}
		if k := key.Reveal(); k != "" { // in case Heidi ever echoes the key back
			he.Detail = strings.ReplaceAll(he.Detail, k, "[redacted]")
		}
		wait := delay + rand.N(delay/2+1)
		switch he.Kind {
		case Unavailable:
		case RateLimited:
			if he.RetryAfter > maxRA {
				return Token{}, err
			}
			if he.RetryAfter > 0 {
				wait = he.RetryAfter
			}
		default:
			return Token{}, err
		}
		if i == attempts-1 {
			break
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return Token{}, last
		case <-t.C:
		}
		delay *= 2
	}
	return Token{}, last
}

func (c *Client) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func (c *Client) fetchOnce(ctx context.Context, region string, key APIKey, email, userID string) (Token, error) {
	base, err := c.Base(region)
	if err != nil {
		return Token{}, err
	}
	q := url.Values{"email": {email}, "third_party_internal_id": {userID}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(base, "/")+JWTPath+"?"+q.Encode(), nil)
	if err != nil {
		return Token{}, fmt.Errorf("building the JWT request: %w", err)
	}
	req.Header.Set("Heidi-Api-Key", key.Reveal())
	req.Header.Set("Accept", "application/json")
	ua := c.UserAgent
	if ua == "" {
		ua = "heidi-tray"
	}
	req.Header.Set("User-Agent", ua)
	sent := c.now()
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return Token{}, &Error{Kind: Unavailable, Region: region, Err: err}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return Token{}, &Error{Kind: Unavailable, Region: region, Status: resp.StatusCode, Err: err, Detail: "the response was cut off"}
	}
	if len(body) > maxBody {
		return Token{}, &Error{Kind: Malformed, Region: region, Status: resp.StatusCode, Detail: "the response is larger than 64 KiB"}
	}
	switch s := resp.StatusCode; {
	case s == http.StatusOK:
		return c.parseToken(region, resp, body, sent)
	case s == 401 || s == 403:
		return Token{}, &Error{Kind: KeyRejected, Region: region, Status: s, Detail: detail(body)}
	case s == 400 || s == 404 || s == 409 || s == 422:
		return Token{}, &Error{Kind: BadRequest, Region: region, Status: s, Detail: detail(body)}
	case s == 429:
		return Token{}, &Error{Kind: RateLimited, Region: region, Status: s, RetryAfter: retryAfter(resp.Header.Get("Retry-After"), c.now()), Detail: detail(body)}
	case s >= 500:
		return Token{}, &Error{Kind: Unavailable, Region: region, Status: s, Detail: detail(body)}
	default:
		return Token{}, &Error{Kind: Malformed, Region: region, Status: s, Detail: fmt.Sprintf("unexpected HTTP status %d", s)}
	}
}

type tokenResponse struct {
	Token          *string `json:"token"`
	ExpirationTime *string `json:"expiration_time"`
}

func (c *Client) parseToken(region string, resp *http.Response, body []byte, sent time.Time) (Token, error) {
	bad := func(msg string) (Token, error) {
		return Token{}, &Error{Kind: Malformed, Region: region, Status: 200, Detail: msg}
	}
	var tr tokenResponse
	if err := json.Unmarshal(body, &tr); err != nil {
		return bad("the body is not the expected JSON")
	}
	if tr.Token == nil || tr.ExpirationTime == nil {
		return bad("token or expiration_time is missing")
	}
	tok := *tr.Token
	if tok == "" || len(tok) > maxToken {
		return bad("the token is empty or too long")
	}
	for _, r := range tok {
		if r <= ' ' || r > '~' {
			return bad("the token contains characters a JWT cannot have")
		}
	}
	exp, err := time.Parse(time.RFC3339Nano, *tr.ExpirationTime)
	if err != nil {
		return bad("expiration_time is not an ISO-8601 time")
	}
	// Measure the lifetime on Heidi's clock when it tells us its time.
	serverNow := sent
	if d, err := http.ParseTime(resp.Header.Get("Date")); err == nil {
		serverNow = d.Add(time.Second) // Date is truncated to the second: assume the later end
	}
	life := exp.Sub(serverNow)
	if life <= 0 {
		return bad("the token was already expired when it arrived")
	}
	if life > 31*24*time.Hour {
		return bad("expiration_time is implausibly far in the future")
	}
	return Token{JWT: NewJWT(tok), Expires: sent.Add(life), Lifetime: life}, nil
}

// detail extracts FastAPI's detail message (object, array or string), or a
// clipped body, with control characters removed.
func detail(body []byte) string {
	var v struct {
		Detail json.RawMessage `json:"detail"`
	}
	if json.Unmarshal(body, &v) == nil && len(v.Detail) > 0 {
		var s string
		var obj struct {
			Msg string `json:"msg"`
		}
		var arr []struct {
			Msg string `json:"msg"`
			Loc []any  `json:"loc"`
		}
		switch {
		case json.Unmarshal(v.Detail, &s) == nil:
			return sanitize(s)
		case json.Unmarshal(v.Detail, &obj) == nil && obj.Msg != "":
			return sanitize(obj.Msg)
		case json.Unmarshal(v.Detail, &arr) == nil && len(arr) > 0:
			parts := make([]string, 0, len(arr))
			for _, a := range arr {
				loc := ""
				if len(a.Loc) > 0 {
					loc = fmt.Sprint(a.Loc[len(a.Loc)-1]) + ": "
				}
				parts = append(parts, loc+a.Msg)
			}
			return sanitize(strings.Join(parts, "; "))
		}
	}
	return sanitize(string(body))
}

func sanitize(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	s = strings.TrimSpace(s)
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

func retryAfter(h string, now time.Time) time.Duration {
	if h == "" {
		return 0
	}
	if n, err := strconv.Atoi(strings.TrimSpace(h)); err == nil && n >= 0 {
		return min(time.Duration(n)*time.Second, 24*time.Hour)
	}
	if t, err := http.ParseTime(h); err == nil && t.After(now) {
		return min(t.Sub(now), 24*time.Hour)
	}
	return 0
}
