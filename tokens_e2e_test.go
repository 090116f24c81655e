//go:build linux

package main

// Keeping the key off the workstation, end to end with the built binary:
// token_source emr with the Python reference client as the EMR (it passes
// the token in the open request and answers token_needed), and
// token_source service with a real MIT KDC and 'heidi-tray serve'.

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/heidi-tray/heidi-tray/launcher/heidiapi"
	"github.com/heidi-tray/heidi-tray/launcher/heidiapi/fakeheidi"
	"github.com/heidi-tray/heidi-tray/launcher/testrig"
)

// trayPage redeems a launch link like the widget page does and asks for its
// token, then for a fresh one (onTokenExpired).
type trayPage struct {
	t      *testing.T
	origin string
	hc     *http.Client
	secret string // the page secret, from the redirect's #page=
}

func redeem(t *testing.T, link string) *trayPage {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	p := &trayPage{t: t, hc: &http.Client{Jar: jar}}
	u, _ := url.Parse(link)
	p.origin = u.Scheme + "://" + u.Host
	resp, err := p.hc.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	p.secret = strings.TrimPrefix(resp.Request.URL.Fragment, "page=")
	return p
}

func (p *trayPage) call(path string) (int, map[string]any) {
	p.t.Helper()
	req, _ := http.NewRequest("POST", p.origin+path, strings.NewReader("{}"))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", p.origin)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	req.Header.Set("X-Heidi-Tray-Page", p.secret)
	resp, err := p.hc.Do(req)
	if err != nil {
		p.t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, m
}

func claimsOf(t *testing.T, tok string) map[string]any {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT")
	}
	b, _ := base64.RawURLEncoding.DecodeString(parts[1])
	var m map[string]any
	json.Unmarshal(b, &m)
	return m
}

// emrServer stands in for the EMR vendor's server: it holds the Heidi key
// and hands the EMR client a token for the clinician it asks about.
func emrServer(t *testing.T, fake *fakeheidi.Server) (string, *atomic.Int32) {
	t.Helper()
	hs := httptest.NewServer(fake)
	t.Cleanup(hs.Close)
	hc := &heidiapi.Client{HTTP: hs.Client(), Base: func(string) (string, error) { return hs.URL + fakeheidi.BasePath, nil }}
	calls := new(atomic.Int32)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		q := r.URL.Query()
		email := q.Get("email")
		if o := q.Get("as"); o != "" { // a misbehaving EMR: someone else's token
			email = o
		}
		tok, err := hc.FetchJWT(r.Context(), "AU", keyString(e2eKey), email, q.Get("user_id"))
		if err != nil {
			http.Error(w, err.Error(), 502)
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"token": tok.JWT.Reveal(), "expires_in": time.Until(tok.Expires).Seconds()})
	}))
	t.Cleanup(srv.Close)
	return srv.URL, calls
}

type keyString string

func (k keyString) Reveal() string { return string(k) }

func TestEMRModeEndToEnd(t *testing.T) {
	python := testrig.Need(t, "python3", "python3")
	w := newWorld(t)
	w.env = append(w.env, "HEIDI_TRAY_TOKEN_SOURCE=emr")
	emrURL, emrCalls := emrServer(t, w.fake)
	w.startTray()
	if st := w.status(); st["token_source"] != "emr" {
		t.Fatalf("status: %v", st)
	}
	// No key is read or stored: the key commands say why.
	for _, args := range [][]string{{"key", "status"}, {"key", "set", "--region", "AU"}} {
		r := w.cli(e2eKey+"\n", args...)
		if r.code == 0 || !strings.Contains(r.stderr, "token_source is emr") {
			t.Fatalf("%v: %+v", args, r)
		}
	}
	// The EMR's token agent answers token_needed events.
	agent := exec.Command(python, "examples/python/heidi_tray.py", "tokens", "--emr-server", emrURL, "--clinician", "dr.a@clinic.example")
	agent.Env = w.env
	agentLog := filepath.Join(w.dir, "agent.log")
	lf, _ := os.Create(agentLog)
	agent.Stdout, agent.Stderr = lf, lf
	if err := agent.Start(); err != nil {
		t.Fatal(err)
	}
	testrig.Own(agent)
	defer func() { agent.Process.Kill(); agent.Wait() }()

	// The EMR opens Heidi with the clinician's token in the open request.
	py := func(args ...string) ([]byte, error) {
		cmd := exec.Command(python, append([]string{"examples/python/heidi_tray.py"}, args...)...)
		cmd.Env = w.env
		return cmd.CombinedOutput()
	}
	out, err := py("open", "--email", "dr.a@clinic.example", "--user-id", "42",
		"--patient-id", "P-1", "--patient-name", "Jane Citizen", "--emr-server", emrURL)
	if err != nil {
		t.Fatalf("open: %v\n%s", err, out)
	}
	first := w.fake.IssuedTokens()
	if len(first) != 1 || emrCalls.Load() != 1 {
		t.Fatalf("the EMR server should have minted one token, minted %d", len(first))
	}
	for _, c := range w.fake.Calls() {
		if c.APIKey != e2eKey {
			t.Fatal("a call to Heidi without the EMR server's key")
		}
	}
	p := redeem(t, w.waitBrowser(1)[0])
	st, sess := p.call("/api/session")
	if st != 200 || sess["token"] != first[0] {
		t.Fatalf("the page did not get the EMR's token: %d", st)
	}
	// The widget says the token expired: the tray asks the EMR, which answers.
	st, fresh := p.call("/api/token")
	if st != 200 || fresh["token"] == first[0] || !w.fake.Issued(fresh["token"].(string)) {
		t.Fatalf("refresh through the EMR: %d %v", st, fresh["error"])
	}
	if c := claimsOf(t, fresh["token"].(string)); c["email"] != "dr.a@clinic.example" {
		t.Fatalf("the fresh token is for %v", c["email"])
	}
	if emrCalls.Load() != 2 {
		t.Fatalf("EMR server calls %d, want 2", emrCalls.Load())
	}
	var log []byte
	for i := 0; i < 200 && !strings.Contains(string(log), "token provided for"); i++ { // it logs after answering
		time.Sleep(10 * time.Millisecond)
		log, _ = os.ReadFile(agentLog)
	}
	if !strings.Contains(string(log), "token provided for dr.a@clinic.example") {
		t.Fatalf("agent log:\n%s", log)
	}

	// A token for someone else is refused, with a message that says so.
	emrOther := emrURL + "?as=dr.b@clinic.example&x="
	out, err = py("open", "--email", "dr.a@clinic.example", "--user-id", "42", "--emr-server", emrOther)
	if err == nil || !strings.Contains(string(out), "token_refused") || !strings.Contains(string(out), "not the launch's clinician") {
		t.Fatalf("someone else's token: %v\n%s", err, out)
	}
	w.stopAll()
	w.sweep()
}

func TestServiceModeEndToEnd(t *testing.T) {
	w := newWorld(t)
	kdc := testrig.StartKDC(t)
	kdc.AddUser(t, "alice", "alice-pw")
	keytab := filepath.Join(kdc.Dir, "svc.keytab")
	kdc.ServiceKeytab(t, "HTTP/localhost", keytab)
	ca, cert, key := testrig.TLSCert(t, kdc.Dir)
	hs := httptest.NewServer(w.fake)
	defer hs.Close()
	keys := filepath.Join(kdc.Dir, "keys.json")
	os.WriteFile(keys, []byte(`{"AU":"`+e2eKey+`"}`), 0o600)
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	audit := filepath.Join(kdc.Dir, "audit.jsonl")
	cfg, _ := json.Marshal(map[string]any{"listen": fmt.Sprintf("127.0.0.1:%d", port), "tls_cert": cert, "tls_key": key, "keytab": keytab,
		"principal": "HTTP/localhost", "keys_file": keys, "api_base": hs.URL + fakeheidi.BasePath, "identity": "personal",
		"email_rule": "{user}@clinic.example", "audit_log": audit})
	cfgFile := filepath.Join(kdc.Dir, "svc.json")
	os.WriteFile(cfgFile, cfg, 0o600)
	svc := exec.Command(binary, "serve", "--config", cfgFile)
	svc.Env = kdc.Env()
	svcOut := &testrig.SyncBuffer{}
	svc.Stdout, svc.Stderr = svcOut, svcOut
	if err := svc.Start(); err != nil {
		t.Fatal(err)
	}
	testrig.Own(svc)
	defer func() { svc.Process.Kill(); svc.Wait() }()
	testrig.WaitListening(t, fmt.Sprintf("127.0.0.1:%d", port), "serve", 5*time.Second, svcOut)
	cc := filepath.Join(kdc.Dir, "alice.cc")
	kdc.Kinit(t, "alice", "alice-pw", cc, "")

	w.env = append(w.env, "HEIDI_TRAY_TOKEN_SOURCE=service",
		fmt.Sprintf("HEIDI_TRAY_TOKEN_SERVICE_URLS=https://localhost:%d", port),
		"HEIDI_TRAY_TOKEN_SERVICE_SPN=HTTP/localhost", "HEIDI_TRAY_TOKEN_SERVICE_CA="+ca,
		"KRB5CCNAME=FILE:"+cc, "KRB5_CONFIG="+kdc.Config)
	w.startTray()
	if st := w.status(); st["token_source"] != "service" || st["state"] != "ready" {
		t.Fatalf("status: %v", st)
	}
	if r := w.cli("", "key", "status"); r.code == 0 || !strings.Contains(r.stderr, "token_source is service") {
		t.Fatalf("key status: %+v", r)
	}
	// doctor: the service answers and alice can sign in to it.
	d := w.cli("", "doctor", "--json")
	for _, want := range []string{`"token source"`, `https://localhost:`, `a Kerberos ticket for HTTP/localhost`} {
		if !strings.Contains(d.stdout, want) {
			t.Errorf("doctor lacks %s:\n%s", want, d.stdout)
		}
	}
	if strings.Contains(d.stdout, `"name":"api key","status":"ok"`) {
		t.Error("doctor read an API key")
	}
	if s := w.cli("", "status"); !strings.Contains(s.stdout, "token_source service") {
		t.Errorf("status: %+v", s)
	}
	r := w.cli("", "open", "--email", "alice@clinic.example", "--user-id", "7", "--patient-id", "P-1", "--patient-name", "Jane Citizen")
	if r.code != 0 {
		t.Fatalf("open for alice's own email: %+v", r)
	}
	p := redeem(t, w.waitBrowser(1)[0])
	st, sess := p.call("/api/session")
	if st != 200 || !w.fake.Issued(fmt.Sprint(sess["token"])) {
		t.Fatalf("the page's token: %d %v", st, sess["error"])
	}
	r = w.cli("", "open", "--email", "bob@clinic.example", "--user-id", "8")
	if r.code == 0 || !strings.Contains(r.stderr, "may only get tokens for its own email") {
		t.Fatalf("open for another email: %+v", r)
	}
	auditLog, _ := os.ReadFile(audit)
	if !strings.Contains(string(auditLog), `"principal":"alice@HEIDI.TEST"`) || strings.Count(string(auditLog), "\n") != 2 ||
		!strings.Contains(string(auditLog), `"result":"forbidden"`) {
		t.Fatalf("audit log:\n%s", auditLog)
	}
	for _, c := range w.fake.Calls() {
		if c.APIKey != "" && c.Email != "alice@clinic.example" { // doctor's keyless reachability check is not a token request
			t.Fatalf("Heidi was asked for %s", c.Email)
		}
	}
	w.stopAll()
	w.sweep()
	for _, s := range w.secrets() {
		if strings.Contains(string(auditLog), s) || strings.Contains(svcOut.String(), s) {
			t.Error("a token or the key is in the service's audit log or output")
		}
	}
}

// The same in a real browser: headless Chromium loads the page, the widget
// (the SDK stand-in) opens with the token the EMR passed, and when it
// reports the token expired mid-recording, the tray asks the EMR on the
// event feed and the widget gets the EMR's new token. No key on the machine.
func TestEMRModeInChromium(t *testing.T) {
	python := testrig.Need(t, "python3", "python3")
	w := newWorld(t)
	w.env = append(w.env, "HEIDI_TRAY_TOKEN_SOURCE=emr", "HEIDI_TRAY_WIDGET_SCRIPT=/assets/sdk/heidi-sandbox.js", "HEIDI_TRAY_CLIPBOARD=false")
	emrURL, emrCalls := emrServer(t, w.fake)
	w.startTray()
	ctx := browser(t, w)
	agent := exec.Command(python, "examples/python/heidi_tray.py", "tokens", "--emr-server", emrURL, "--clinician", "dr.a@clinic.example")
	agent.Env = w.env
	if err := agent.Start(); err != nil {
		t.Fatal(err)
	}
	testrig.Own(agent)
	defer func() { agent.Process.Kill(); agent.Wait() }()
	open := exec.Command(python, "examples/python/heidi_tray.py", "open", "--email", "dr.a@clinic.example", "--user-id", "42", "--emr-server", emrURL)
	open.Env = w.env
	if out, err := open.CombinedOutput(); err != nil {
		t.Fatalf("open: %v\n%s", err, out)
	}
	run(t, ctx, chromedp.Navigate(w.waitBrowser(1)[0]))
	first := waitFor(t, ctx, "the widget to open", func(s sbx) bool { return s.Opened > 0 && s.TokenSha != "" })
	if toks := w.fake.IssuedTokens(); len(toks) != 1 || first.TokenSha != sha(toks[0]) {
		t.Fatal("the widget did not get the token the EMR passed")
	}
	run(t, ctx, chromedp.Click(chromedp.CSS("#hs-start")))
	waitFor(t, ctx, "recording", func(s sbx) bool { return s.Recording == "RECORDING" })
	run(t, ctx, chromedp.Click(chromedp.CSS("#hs-expire")))
	s := waitFor(t, ctx, "setToken", func(s sbx) bool { return s.SetTokenCalls == 1 })
	toks := w.fake.IssuedTokens()
	if s.TokenSha == first.TokenSha || len(toks) != 2 || (s.TokenSha != sha(toks[0]) && s.TokenSha != sha(toks[1])) {
		t.Fatal("the widget did not get the EMR's fresh token")
	}
	if emrCalls.Load() != 2 || s.Recording != "RECORDING" {
		t.Fatalf("EMR server calls %d; recording %q", emrCalls.Load(), s.Recording)
	}
	w.stopAll()
	w.sweep()
}
