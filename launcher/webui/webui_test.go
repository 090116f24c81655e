package webui

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heidi-tray/heidi-tray/launcher"
	"github.com/heidi-tray/heidi-tray/launcher/heidiapi"
	"github.com/heidi-tray/heidi-tray/launcher/request"
)

// recorder is a Backend that hands out numbered tokens and records pushes.
type recorder struct {
	unsupported
	mu     sync.Mutex
	tokens int
	pushes int
}

func (r *recorder) Token(context.Context, request.Clinician) (heidiapi.Token, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.tokens++
	return heidiapi.Token{JWT: heidiapi.NewJWT("jwt-" + string(rune('0'+r.tokens))), Expires: time.Now().Add(time.Hour), Lifetime: time.Hour}, nil
}
func (r *recorder) RefreshToken(ctx context.Context, c request.Clinician, _ heidiapi.JWT) (heidiapi.Token, error) {
	return r.Token(ctx, c)
}
func (r *recorder) PushNote(context.Context, launcher.Launch, string, []byte) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.pushes++
	return "saved", nil
}
func (r *recorder) SessionStarted(launcher.Launch, string) {}
func (r *recorder) RecordingChanged()                      {}
func (r *recorder) ViewLeft(string, string)                {}
func (r *recorder) WindowChanged()                         {}

// unsupported answers the confirmation and settings calls these tests do not make.
type unsupported struct{}

var errUnsupported = errors.New("not in this test")

func (unsupported) ConfirmLaunch(context.Context, launcher.Launch) (launcher.Outcome, error) {
	return launcher.Outcome{}, errUnsupported
}
func (unsupported) SettingsState(context.Context) (launcher.SettingsState, error) {
	return launcher.SettingsState{}, errUnsupported
}
func (unsupported) SetKey(context.Context, string, string) error           { return errUnsupported }
func (unsupported) DeleteKey(context.Context, string) error                { return errUnsupported }
func (unsupported) SetSecret(context.Context, string) error                { return errUnsupported }
func (unsupported) DeleteSecret(context.Context) error                     { return errUnsupported }
func (unsupported) SavePrefs(context.Context, string, string) error        { return errUnsupported }
func (unsupported) TestConnection(context.Context, string) (string, error) { return "", errUnsupported }

type env struct {
	srv   *Server
	back  *recorder
	now   time.Time
	mu    sync.Mutex
	jar   http.CookieJar
	hc    *http.Client
	raw   *http.Client
	base  string
	clock func() time.Time
	// pageSecret is the page secret of the last redeemed code.
	pageSecret string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	e := &env{back: &recorder{}, now: time.Now()}
	e.clock = func() time.Time { e.mu.Lock(); defer e.mu.Unlock(); return e.now }
	e.srv = New(l, e.back, Options{WidgetScript: ProductionWidget, ProductName: "Test EMR", Now: e.clock})
	go e.srv.Serve(l)
	t.Cleanup(func() { e.srv.Shutdown(context.Background()) })
	e.base = e.srv.Origin()
	e.jar, _ = cookiejar.New(nil)
	e.hc = &http.Client{Jar: e.jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	e.raw = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return e
}

func (e *env) launch() string {
	return e.srv.Present(launcher.Launch{ID: "L1", Req: request.Open{Clinician: request.Clinician{Email: "dr.a@clinic.example", UserID: "42", Region: "AU"}}}).URL
}

func (e *env) do(t *testing.T, c *http.Client, method, path string, body string, hdr map[string]string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(method, e.base+path, strings.NewReader(body))
	for k, v := range hdr {
		if k == "Host" {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

var sameOrigin = func(e *env) map[string]string {
	return map[string]string{"Content-Type": "application/json", "Origin": e.base, "Sec-Fetch-Site": "same-origin", pageSecretHeader: e.pageSecret}
}

func (e *env) redeem(t *testing.T) {
	t.Helper()
	u, _ := url.Parse(e.launch())
	resp, _ := e.do(t, e.hc, "GET", u.RequestURI(), "", nil)
	secret, ok := strings.CutPrefix(resp.Header.Get("Location"), "/#page=")
	if resp.StatusCode != 303 || !ok || len(secret) != 43 {
		t.Fatalf("redeem: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	e.pageSecret = secret
	var c *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == cookieName {
			c = ck
		}
	}
	if c == nil || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode {
		t.Fatalf("session cookie: %+v", c)
	}
}

func TestCodeRedemption(t *testing.T) {
	e := newEnv(t)
	e.redeem(t)
	resp, body := e.do(t, e.hc, "POST", "/api/session", "{}", sameOrigin(e))
	if resp.StatusCode != 200 || !strings.Contains(body, `"token":"jwt-1"`) || !strings.Contains(body, `"product_name":"Test EMR"`) {
		t.Fatalf("session: %d %s", resp.StatusCode, body)
	}
	for _, h := range []string{"Cache-Control", "Referrer-Policy", "X-Frame-Options", "Content-Security-Policy"} {
		if resp.Header.Get(h) == "" {
			t.Fatalf("missing %s", h)
		}
	}
	csp := resp.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "script-src 'self' https://widget.heidihealth.com;") || !strings.Contains(csp, "frame-ancestors 'none'") || strings.Contains(csp, "*;") {
		t.Fatalf("CSP %q", csp)
	}
	if resp.Header.Get("Cache-Control") != "no-store" || resp.Header.Get("Referrer-Policy") != "no-referrer" || resp.Header.Get("X-Frame-Options") != "DENY" {
		t.Fatal("caching/referrer/framing headers wrong")
	}
}

func TestCodesAreSingleUseAndExpire(t *testing.T) {
	e := newEnv(t)
	u, _ := url.Parse(e.launch())
	e.do(t, e.raw, "GET", u.RequestURI(), "", nil)
	resp, body := e.do(t, e.raw, "GET", u.RequestURI(), "", nil)
	if resp.StatusCode != 403 || !strings.Contains(body, "expired") || resp.Header.Get("Set-Cookie") != "" {
		t.Fatalf("reused code: %d %s", resp.StatusCode, body)
	}
	u, _ = url.Parse(e.launch())
	e.mu.Lock()
	e.now = e.now.Add(CodeTTL + time.Second)
	e.mu.Unlock()
	resp, _ = e.do(t, e.raw, "GET", u.RequestURI(), "", nil)
	if resp.StatusCode != 403 || resp.Header.Get("Set-Cookie") != "" {
		t.Fatalf("expired code: %d", resp.StatusCode)
	}
	resp, _ = e.do(t, e.raw, "GET", "/launch?code=guess", "", nil)
	if resp.StatusCode != 403 {
		t.Fatalf("guessed code: %d", resp.StatusCode)
	}
}

func TestLocalWebAttacksAreRefused(t *testing.T) {
	e := newEnv(t)
	e.redeem(t)
	push := `{"view_id":"L1","kind":"data","payload":{"notesData":"x"}}`
	cases := []struct {
		name, method, path, body string
		hdr                      map[string]string
		status                   int
	}{
		{"DNS rebinding host", "POST", "/api/push", push, map[string]string{"Host": "attacker.example:" + strings.Split(e.base, ":")[2], "Content-Type": "application/json", "Origin": "http://attacker.example"}, 421},
		{"rebinding host on GET", "GET", "/", "", map[string]string{"Host": "attacker.example"}, 421},
		{"other origin", "POST", "/api/push", push, map[string]string{"Content-Type": "application/json", "Origin": "http://evil.example"}, 403},
		{"other local port", "POST", "/api/push", push, map[string]string{"Content-Type": "application/json", "Origin": "http://127.0.0.1:1"}, 403},
		{"null origin", "POST", "/api/push", push, map[string]string{"Content-Type": "application/json", "Origin": "null"}, 403},
		{"no origin", "POST", "/api/push", push, map[string]string{"Content-Type": "application/json"}, 403},
		{"cross-site fetch metadata", "POST", "/api/push", push, map[string]string{"Content-Type": "application/json", "Origin": e.base, "Sec-Fetch-Site": "same-site"}, 403},
		{"form post", "POST", "/api/push", "kind=data", map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Origin": e.base}, 415},
		{"text/plain post", "POST", "/api/push", push, map[string]string{"Content-Type": "text/plain", "Origin": e.base}, 415},
		{"GET with side effects", "GET", "/api/push", "", nil, 405},
		{"GET session", "GET", "/api/session", "", nil, 405},
		{"PUT", "PUT", "/api/push", push, sameOrigin(e), 405},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := e.do(t, e.hc, tc.method, tc.path, tc.body, tc.hdr)
			if resp.StatusCode != tc.status {
				t.Fatalf("got %d %s, want %d", resp.StatusCode, body, tc.status)
			}
		})
	}
	if e.back.pushes != 0 || e.back.tokens != 0 {
		t.Fatalf("an attack reached the backend: %d pushes, %d tokens", e.back.pushes, e.back.tokens)
	}
	// The same request, done right, works: the refusals above are the guard's.
	if resp, body := e.do(t, e.hc, "POST", "/api/push", push, sameOrigin(e)); resp.StatusCode != 200 || e.back.pushes != 1 {
		t.Fatalf("legitimate push: %d %s", resp.StatusCode, body)
	}
}

func TestNoCookieNoToken(t *testing.T) {
	e := newEnv(t)
	resp, body := e.do(t, e.raw, "POST", "/api/session", "{}", sameOrigin(e))
	if resp.StatusCode != 401 || strings.Contains(body, "jwt-") {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	if e.back.tokens != 0 {
		t.Fatal("a token was fetched for nobody")
	}
}

func TestPushValidation(t *testing.T) {
	e := newEnv(t)
	e.redeem(t)
	for _, body := range []string{`{"kind":"email","payload":{}}`, `{"kind":"data"}`, `{"kind":"data","payload":null}`, `{"kind":"data","payload":{},"x":1}`, `not json`, `{"kind":"data","payload":"` + strings.Repeat("x", maxPush) + `"}`} {
		resp, _ := e.do(t, e.hc, "POST", "/api/push", body, sameOrigin(e))
		if resp.StatusCode != 400 && resp.StatusCode != 413 {
			t.Errorf("%.40s: %d", body, resp.StatusCode)
		}
	}
	if e.back.pushes != 0 {
		t.Fatal("a bad push was saved")
	}
}

func TestLogoutForgetsPagesAndCodes(t *testing.T) {
	e := newEnv(t)
	e.redeem(t)
	pending, _ := url.Parse(e.launch())
	e.srv.Logout()
	if resp, _ := e.do(t, e.hc, "POST", "/api/session", "{}", sameOrigin(e)); resp.StatusCode != 401 {
		t.Fatalf("session after logout: %d", resp.StatusCode)
	}
	if resp, _ := e.do(t, e.raw, "GET", pending.RequestURI(), "", nil); resp.StatusCode != 403 {
		t.Fatalf("code issued before logout still works: %d", resp.StatusCode)
	}
}

func TestStablePort(t *testing.T) {
	state := t.TempDir() + "/port"
	log := discard()
	l1, err := ListenLoopback(0, state, log)
	if err != nil {
		t.Fatal(err)
	}
	port := l1.Addr().(*net.TCPAddr).Port
	l1.Close()
	l2, err := ListenLoopback(0, state, log)
	if err != nil {
		t.Fatal(err)
	}
	if got := l2.Addr().(*net.TCPAddr).Port; got != port {
		t.Fatalf("second run got port %d, want the remembered %d", got, port)
	}
	// Busy: fall back to another port rather than fail.
	l3, err := ListenLoopback(0, state, log)
	if err != nil {
		t.Fatalf("busy remembered port: %v", err)
	}
	if l3.Addr().(*net.TCPAddr).Port == port {
		t.Fatal("fallback reused the busy port")
	}
	l3.Close()
	// A configured port that is busy is a clear error.
	if _, err := ListenLoopback(port, state, log); err == nil || !strings.Contains(err.Error(), "port setting") {
		t.Fatalf("busy configured port: %v", err)
	}
	l2.Close()
	if ip := l2.Addr().(*net.TCPAddr).IP; !ip.IsLoopback() {
		t.Fatalf("listening on %v", ip)
	}
}
