package heidiapi_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/heidi-tray/heidi-tray/launcher/heidiapi"
	"github.com/heidi-tray/heidi-tray/launcher/heidiapi/fakeheidi"
)

const testKey = "hk_test_KEY_abcdef123456"

func setup(t *testing.T) (*fakeheidi.Server, *heidiapi.Client) {
	t.Helper()
	fake := fakeheidi.New(testKey)
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	c := &heidiapi.Client{
		HTTP:    &http.Client{Timeout: 2 * time.Second},
		Base:    func(string) (string, error) { return srv.URL + fakeheidi.BasePath, nil },
		Backoff: 10 * time.Millisecond,
	}
	return fake, c
}

func fetch(c *heidiapi.Client, key string) (heidiapi.Token, error) {
	return c.FetchJWT(context.Background(), "AU", apiKey(key), "dr.a@clinic.example", "emr-42")
}

func TestFetchSendsTheDocumentedRequest(t *testing.T) {
	fake, c := setup(t)
	tok, err := fetch(c, testKey)
	if err != nil {
		t.Fatal(err)
	}
	if !fake.Issued(tok.JWT.Reveal()) || strings.Count(tok.JWT.Reveal(), ".") != 2 {
		t.Fatalf("token not the fake's JWT")
	}
	if tok.Lifetime < 59*time.Minute || tok.Lifetime > 61*time.Minute {
		t.Fatalf("lifetime %v, want ~1h", tok.Lifetime)
	}
	calls := fake.Calls()
	if len(calls) != 1 {
		t.Fatalf("%d calls", len(calls))
	}
	call := calls[0]
	if call.Method != "GET" || call.Path != fakeheidi.Path || call.APIKey != testKey ||
		call.Email != "dr.a@clinic.example" || call.UserID != "emr-42" || len(call.ExtraParams) != 0 {
		t.Fatalf("request: %+v", call)
	}
}

func TestErrorClasses(t *testing.T) {
	cases := []struct {
		name    string
		key     string
		faults  []fakeheidi.Fault
		kind    heidiapi.Kind
		calls   int
		mention string
	}{
		{"wrong key", "wrong-key", nil, heidiapi.KeyRejected, 1, "key set --region AU"},
		{"forbidden", testKey, []fakeheidi.Fault{{Status: 403}}, heidiapi.KeyRejected, 1, "rejected the AU API key"},
		{"bad request", testKey, []fakeheidi.Fault{{Status: 400, Body: `{"detail":{"msg":"Linked Account is required","type":"X"}}`}}, heidiapi.BadRequest, 1, "Linked Account is required"},
		{"422 detail array", testKey, []fakeheidi.Fault{{Status: 422, Body: `{"detail":[{"loc":["query","email"],"msg":"Field required","type":"missing"}]}`}}, heidiapi.BadRequest, 1, "email: Field required"},
		{"503 burst then fail", testKey, []fakeheidi.Fault{{Status: 503}, {Status: 503}, {Status: 500}}, heidiapi.Unavailable, 3, "unavailable (HTTP 500)"},
		{"invalid json", testKey, []fakeheidi.Fault{{Status: 200, Body: "{not json"}}, heidiapi.Malformed, 1, "not the expected JSON"},
		{"missing fields", testKey, []fakeheidi.Fault{{Status: 200, Body: `{"token":"a.b.c"}`}}, heidiapi.Malformed, 1, "missing"},
		{"expired on arrival", testKey, []fakeheidi.Fault{{Expired: true}}, heidiapi.Malformed, 1, "already expired"},
		{"html from a proxy", testKey, []fakeheidi.Fault{{Status: 502, Body: "<html>Bad gateway</html>"}, {Status: 502}, {Status: 502}}, heidiapi.Unavailable, 3, "HTTP 502"},
		{"429 long retry-after", testKey, []fakeheidi.Fault{{Status: 429, RetryAfter: "3600"}}, heidiapi.RateLimited, 1, "try again in 1h0m0s"},
		{"unexpected 3xx", testKey, []fakeheidi.Fault{{Status: 304}}, heidiapi.Malformed, 1, "unexpected HTTP status 304"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fake, c := setup(t)
			fake.Queue(tc.faults...)
			_, err := fetch(c, tc.key)
			var he *heidiapi.Error
			if !errors.As(err, &he) || he.Kind != tc.kind {
				t.Fatalf("want %v, got %v", tc.kind, err)
			}
			if n := len(fake.Calls()); n != tc.calls {
				t.Fatalf("%d upstream calls, want %d", n, tc.calls)
			}
			msg := err.Error()
			if !strings.Contains(msg, tc.mention) || !strings.Contains(msg, "AU") {
				t.Fatalf("message %q should mention %q and the region", msg, tc.mention)
			}
			if strings.Contains(msg, testKey) || strings.Contains(msg, "dr.a@clinic.example") {
				t.Fatalf("message leaks the key or the email: %q", msg)
			}
		})
	}
}

func TestTransientFailureRecovers(t *testing.T) {
	fake, c := setup(t)
	fake.Queue(fakeheidi.Fault{Status: 503}, fakeheidi.Fault{Status: 500})
	if _, err := fetch(c, testKey); err != nil {
		t.Fatalf("third attempt should succeed: %v", err)
	}
	if n := len(fake.Calls()); n != 3 {
		t.Fatalf("%d calls, want 3", n)
	}
}

func TestRetryAfterIsHonoured(t *testing.T) {
	fake, c := setup(t)
	fake.Queue(fakeheidi.Fault{Status: 429, RetryAfter: "1"})
	start := time.Now()
	if _, err := fetch(c, testKey); err != nil {
		t.Fatal(err)
	}
	calls := fake.Calls()
	if len(calls) != 2 {
		t.Fatalf("%d calls", len(calls))
	}
	if gap := calls[1].Time.Sub(calls[0].Time); gap < 900*time.Millisecond {
		t.Fatalf("retried after %v, before Retry-After: 1", gap)
	}
	_ = start
}

func TestTimeoutAndTrickleAreUnavailable(t *testing.T) {
	fake, c := setup(t)
	c.HTTP.Timeout = 300 * time.Millisecond
	c.Attempts = 2
	fake.Queue(fakeheidi.Fault{Delay: time.Second}, fakeheidi.Fault{Trickle: true})
	_, err := fetch(c, testKey)
	if !heidiapi.IsKind(err, heidiapi.Unavailable) {
		t.Fatalf("want Unavailable, got %v", err)
	}
	if !strings.Contains(err.Error(), "cannot reach Heidi (AU)") && !strings.Contains(err.Error(), "cut off") {
		t.Fatalf("message: %q", err)
	}
	if strings.Contains(err.Error(), "emr-42") || strings.Contains(err.Error(), "clinic.example") {
		t.Fatalf("the request URL (with the email) leaked into the message: %q", err)
	}
}

func TestLifetimeUsesServerClock(t *testing.T) {
	fake, c := setup(t)
	// Heidi's clock is two hours ahead of ours: the token still lives an hour here.
	fake.SetClockOffset(2 * time.Hour)
	tok, err := fetch(c, testKey)
	if err != nil {
		t.Fatal(err)
	}
	if left := time.Until(tok.Expires); left < 58*time.Minute || left > 61*time.Minute {
		t.Fatalf("token expires in %v on the local clock, want ~1h", left)
	}
}

func TestCancelStopsRetries(t *testing.T) {
	fake, c := setup(t)
	c.Backoff = time.Hour
	fake.Queue(fakeheidi.Fault{Status: 503})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err := c.FetchJWT(ctx, "AU", apiKey(testKey), "a@b.example", "1")
	if !heidiapi.IsKind(err, heidiapi.Unavailable) {
		t.Fatalf("got %v", err)
	}
	if len(fake.Calls()) != 1 {
		t.Fatalf("retried after cancellation")
	}
}

func TestBaseURL(t *testing.T) {
	got, _ := heidiapi.BaseURL("production", "EU", "")
	if got != "https://eu.api.heidihealth.com/api/v2/ml-scribe/open-api" {
		t.Fatal(got)
	}
	got, _ = heidiapi.BaseURL("staging", "EU", "")
	if got != "https://registrar.api.heidihealth.com/api/v2/ml-scribe/open-api" {
		t.Fatal(got)
	}
	for _, bad := range []string{"http://api.example.com/x", "ftp://127.0.0.1/", "https://u:p@h.example/", "http://10.0.0.1/"} {
		if _, err := heidiapi.BaseURL("production", "AU", bad); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
	for _, ok := range []string{"http://127.0.0.1:9/x", "http://localhost:8080", "http://[::1]:80/", "https://proxy.clinic.example/heidi"} {
		if _, err := heidiapi.BaseURL("production", "AU", ok); err != nil {
			t.Errorf("%s refused: %v", ok, err)
		}
	}
	if _, err := heidiapi.BaseURL("dev", "AU", ""); err == nil {
		t.Error("unknown environment accepted")
	}
}

// apiKey stands in for the keystore's type (heidiapi must not import it).
type apiKey string

func (k apiKey) Reveal() string { return string(k) }
