//go:build !windows

package tokenservice

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jcmturner/gofork/encoding/asn1"
	"github.com/jcmturner/gokrb5/v8/client"
	"github.com/jcmturner/gokrb5/v8/config"
	"github.com/jcmturner/gokrb5/v8/credentials"
	"github.com/jcmturner/gokrb5/v8/gssapi"
	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/spnego"
	"github.com/jcmturner/gokrb5/v8/types"

	"github.com/heidi-tray/heidi-tray/keystore"
	"github.com/heidi-tray/heidi-tray/launcher/heidiapi/fakeheidi"
	"github.com/heidi-tray/heidi-tray/launcher/request"
	"github.com/heidi-tray/heidi-tray/launcher/testrig"
	"github.com/heidi-tray/heidi-tray/launcher/tokens"
	"github.com/heidi-tray/heidi-tray/launcher/tokensource"
)

const (
	testKey  = "test-key-AU-0123456789"
	testKey2 = "test-key-AU-rotated-987654"
	spn      = "HTTP/localhost"
)

// rig is a realm with users, a service keytab, a TLS certificate, a fake
// Heidi and the files a token service reads.
type rig struct {
	kdc      *testrig.KDC
	dir      string
	keytab   string
	keys     string
	caFile   string
	cert     string
	certKey  string
	heidi    *fakeheidi.Server
	heidiURL string
	logs     *testrig.SyncBuffer
}

func newRig(t *testing.T) *rig {
	t.Helper()
	k := testrig.StartKDC(t)
	r := &rig{kdc: k, dir: k.Dir, logs: &testrig.SyncBuffer{}}
	for _, u := range []string{"alice", "bob", "frontdesk"} {
		k.AddUser(t, u, u+"-password")
	}
	r.keytab = filepath.Join(r.dir, "service.keytab")
	k.ServiceKeytab(t, spn, r.keytab)
	r.keys = filepath.Join(r.dir, "keys.json")
	writeFile(t, r.keys, `{"AU": "`+testKey+`"}`)
	r.caFile, r.cert, r.certKey = testrig.TLSCert(t, r.dir)
	r.heidi = fakeheidi.New(testKey)
	hs := httptest.NewServer(r.heidi)
	t.Cleanup(hs.Close)
	r.heidiURL = hs.URL + fakeheidi.BasePath
	return r
}

func writeFile(t *testing.T, path, body string) {
	t.Helper()
	if err := os.WriteFile(path+".tmp", []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(path+".tmp", path); err != nil {
		t.Fatal(err)
	}
}

func (r *rig) config(name string, edit func(*Config)) *Config {
	c := &Config{Listen: "127.0.0.1:0", TLSCert: r.cert, TLSKey: r.certKey, Keytab: r.keytab, SPN: spn, KeysFile: r.keys,
		APIBase: r.heidiURL, Identity: Personal, EmailRule: "{user}@clinic.example",
		AuditLog: filepath.Join(r.dir, name+"-audit.jsonl")}
	if edit != nil {
		edit(c)
	}
	return c
}

// replica is one running token service.
type replica struct {
	srv  *Server
	url  string
	stop func()
}

func (r *rig) start(t *testing.T, cfg *Config) *replica {
	t.Helper()
	return r.startWith(t, cfg, Options{})
}

func (r *rig) startWith(t *testing.T, cfg *Config, o Options) *replica {
	t.Helper()
	o.Log = slog.New(slog.NewTextHandler(r.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv, err := New(cfg, o)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Serve: %v", err)
			}
			srv.Close()
		})
	}
	t.Cleanup(stop)
	return &replica{srv: srv, url: fmt.Sprintf("https://localhost:%d", ln.Addr().(*net.TCPAddr).Port), stop: stop}
}

// login kinits a user into their own cache file and returns the tray-side
// client that uses it.
func (r *rig) login(t *testing.T, user, lifetime string, urls ...string) *tokensource.Service {
	t.Helper()
	cc := filepath.Join(r.dir, "ccache-"+user)
	r.kdc.Kinit(t, user, user+"-password", cc, lifetime)
	hc, err := tokensource.NewHTTPClient(r.caFile)
	if err != nil {
		t.Fatal(err)
	}
	return &tokensource.Service{URLs: urls, SPN: spn, HTTP: hc, Timeout: 2 * time.Second, Workstation: "ws-" + user,
		Negotiator: tokensource.CCache{Path: "FILE:" + cc, Config: r.kdc.Config}}
}

func clinician(email string) request.Clinician {
	return request.Clinician{Email: email, UserID: "emr-" + strings.Split(email, "@")[0], Region: "AU"}
}

func refusal(t *testing.T, err error) *tokensource.Error {
	t.Helper()
	var se *tokensource.Error
	if !errors.As(err, &se) {
		t.Fatalf("want a token service refusal, got %v", err)
	}
	return se
}

type auditLine struct {
	Time, Principal, Workstation, Remote, Email, Region, Result, Reason string
}

func readAudit(t *testing.T, path string) []auditLine {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []auditLine
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if l == "" {
			continue
		}
		var a auditLine
		if err := json.Unmarshal([]byte(l), &a); err != nil {
			t.Fatalf("audit line %q is not JSON: %v", l, err)
		}
		out = append(out, a)
	}
	return out
}

// noSecrets fails if any issued token or the keys appear in the text.
func (r *rig) noSecrets(t *testing.T, what, text string) {
	t.Helper()
	for _, s := range append(r.heidi.IssuedTokens(), testKey, testKey2) {
		if strings.Contains(text, s) {
			t.Errorf("%s contains a secret (%.12s…)", what, s)
		}
	}
}

func TestPersonalLoginGetsOnlyItsOwnEmail(t *testing.T) {
	r := newRig(t)
	cfg := r.config("a", nil)
	a := r.start(t, cfg)
	alice := r.login(t, "alice", "", a.url)
	cache := tokens.New(alice, tokens.Options{})
	defer cache.Close()

	tok, err := cache.Get(context.Background(), clinician("alice@clinic.example"))
	if err != nil {
		t.Fatalf("alice's own token: %v", err)
	}
	if !r.heidi.Issued(tok.JWT.Reveal()) {
		t.Fatal("the token alice got is not one Heidi issued")
	}
	if _, err := cache.Get(context.Background(), clinician("alice@clinic.example")); err != nil {
		t.Fatal(err)
	}
	if n := len(r.heidi.Calls()); n != 1 {
		t.Fatalf("the tray should cache the token; Heidi saw %d calls", n)
	}
	call := r.heidi.Calls()[0]
	if call.APIKey != testKey || call.Email != "alice@clinic.example" || call.UserID != "emr-alice" {
		t.Fatalf("the service called Heidi with %+v", call)
	}

	_, err = cache.Get(context.Background(), clinician("bob@clinic.example"))
	if se := refusal(t, err); se.Code != CodeForbidden || se.Status != 403 || !strings.Contains(se.Message, "alice@HEIDI.TEST may only get tokens for its own email") {
		t.Fatalf("alice asking for bob's token: %+v", se)
	}
	if n := len(r.heidi.Calls()); n != 1 {
		t.Fatalf("a refused request reached Heidi (%d calls)", n)
	}
	// Bob, signed in as himself, gets his own.
	bob := r.login(t, "bob", "", a.url)
	if _, err := bob.Fetch(context.Background(), clinician("bob@clinic.example")); err != nil {
		t.Fatalf("bob's own token: %v", err)
	}

	audit := readAudit(t, cfg.AuditLog)
	if len(audit) != 3 {
		t.Fatalf("want 3 audit lines, got %+v", audit)
	}
	want := []auditLine{
		{Principal: "alice@HEIDI.TEST", Workstation: "ws-alice", Email: "alice@clinic.example", Region: "AU", Result: CodeOK},
		{Principal: "alice@HEIDI.TEST", Workstation: "ws-alice", Email: "bob@clinic.example", Region: "AU", Result: CodeForbidden},
		{Principal: "bob@HEIDI.TEST", Workstation: "ws-bob", Email: "bob@clinic.example", Region: "AU", Result: CodeOK},
	}
	for i, w := range want {
		g := audit[i]
		if g.Principal != w.Principal || g.Workstation != w.Workstation || g.Email != w.Email || g.Region != w.Region || g.Result != w.Result || g.Remote != "127.0.0.1" || g.Time == "" {
			t.Errorf("audit line %d: got %+v, want %+v", i, g, w)
		}
	}
	b, _ := os.ReadFile(cfg.AuditLog)
	r.noSecrets(t, "the audit log", string(b))
	r.noSecrets(t, "the service log", r.logs.String())
	if fi, _ := os.Stat(cfg.AuditLog); fi.Mode().Perm() != 0o600 {
		t.Errorf("audit log mode %o, want 600", fi.Mode().Perm())
	}

	// The metrics count what happened.
	hc, _ := tokensource.NewHTTPClient(r.caFile)
	body := get(t, hc, a.url+"/metrics")
	for _, w := range []string{`heidi_tokens_minted_total{region="AU"} 2`, `heidi_token_requests_refused_total{reason="forbidden"} 1`} {
		if !strings.Contains(body, w) {
			t.Errorf("/metrics lacks %q:\n%s", w, body)
		}
	}
	if h := get(t, hc, a.url+"/healthz"); !strings.Contains(h, `"status":"ok"`) || !strings.Contains(h, `"AU"`) {
		t.Errorf("/healthz: %s", h)
	}
}

func get(t *testing.T, hc *http.Client, u string) string {
	t.Helper()
	resp, err := hc.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func TestNoTicketNoToken(t *testing.T) {
	r := newRig(t)
	a := r.start(t, r.config("a", nil))
	hc, _ := tokensource.NewHTTPClient(r.caFile)
	// No Authorization at all, and a forged one.
	for _, auth := range []string{"", "Negotiate " + base64.StdEncoding.EncodeToString([]byte("not a ticket"))} {
		req, _ := http.NewRequest("POST", a.url+TokenPath, strings.NewReader(`{"region":"AU","email":"alice@clinic.example","user_id":"1"}`))
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 401 || resp.Header.Get("WWW-Authenticate") != "Negotiate" || !strings.Contains(string(b), CodeUnauthenticated) {
			t.Fatalf("auth %q: %d %s", auth, resp.StatusCode, b)
		}
	}
	// A user with no credential cache gets a clear message from the tray.
	svc := &tokensource.Service{URLs: []string{a.url}, SPN: spn, HTTP: hc, Negotiator: tokensource.CCache{Path: "FILE:" + filepath.Join(r.dir, "none"), Config: r.kdc.Config}}
	_, err := svc.Fetch(context.Background(), clinician("alice@clinic.example"))
	if err == nil || !strings.Contains(err.Error(), "run kinit") {
		t.Fatalf("no cache: %v", err)
	}
	if len(r.heidi.Calls()) != 0 {
		t.Fatal("Heidi was called without a sign-in")
	}
}

// krbToken builds a SPNEGO token from an already obtained service ticket,
// with a fresh authenticator: what a client holding that ticket would send.
func krbToken(t *testing.T, cl *client.Client, tkt messages.Ticket, key types.EncryptionKey) string {
	t.Helper()
	k5, err := spnego.NewKRB5TokenAPREQ(cl, tkt, key, []int{gssapi.ContextFlagInteg, gssapi.ContextFlagConf}, []int{})
	if err != nil {
		t.Fatal(err)
	}
	mt, err := k5.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	st := spnego.SPNEGOToken{Init: true, NegTokenInit: spnego.NegTokenInit{MechTypes: []asn1.ObjectIdentifier{gssapi.OIDKRB5.OID()}, MechTokenBytes: mt}}
	b, err := st.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return "Negotiate " + base64.StdEncoding.EncodeToString(b)
}

func krbClient(t *testing.T, r *rig, user, lifetime string) *client.Client {
	t.Helper()
	cc := filepath.Join(r.dir, "ccache-raw-"+user)
	r.kdc.Kinit(t, user, user+"-password", cc, lifetime)
	cfg, err := config.Load(r.kdc.Config)
	if err != nil {
		t.Fatal(err)
	}
	cache, err := credentials.LoadCCache(cc)
	if err != nil {
		t.Fatal(err)
	}
	cl, err := client.NewFromCCache(cache, cfg, client.DisablePAFXFAST(true))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Destroy)
	return cl
}

func postWith(t *testing.T, r *rig, url, auth, email string) (int, string) {
	t.Helper()
	hc, _ := tokensource.NewHTTPClient(r.caFile)
	req, _ := http.NewRequest("POST", url+TokenPath, strings.NewReader(`{"region":"AU","email":"`+email+`","user_id":"emr-1","workstation":"ws"}`))
	req.Header.Set("Authorization", auth)
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestExpiredTicketRefused(t *testing.T) {
	r := newRig(t)
	a := r.start(t, r.config("a", func(c *Config) { c.MaxClockSkew = 1 }))
	cl := krbClient(t, r, "alice", "4s")
	tkt, key, err := cl.GetServiceTicket(spn)
	if err != nil {
		t.Fatal(err)
	}
	if st, body := postWith(t, r, a.url, krbToken(t, cl, tkt, key), "alice@clinic.example"); st != 200 {
		t.Fatalf("while valid: %d %s", st, body)
	}
	time.Sleep(6 * time.Second) // past the 4 s lifetime plus the 1 s skew allowed

	st, body := postWith(t, r, a.url, krbToken(t, cl, tkt, key), "alice@clinic.example")
	if st != 401 || !strings.Contains(body, "expired") {
		t.Fatalf("an expired ticket: %d %s", st, body)
	}
	// The tray, whose cache has expired too, says what to do.
	svc := &tokensource.Service{URLs: []string{a.url}, SPN: spn, Negotiator: tokensource.CCache{Path: "FILE:" + filepath.Join(r.dir, "ccache-raw-alice"), Config: r.kdc.Config}}
	if _, err := svc.Fetch(context.Background(), clinician("alice@clinic.example")); err == nil || !strings.Contains(err.Error(), "kinit") {
		t.Fatalf("expired cache: %v", err)
	}
	if n := len(r.heidi.Calls()); n != 1 {
		t.Fatalf("Heidi calls: %d, want 1 (only while the ticket was valid)", n)
	}
}

// Re-keying the service principal (kadmin ktadd) and replacing the keytab
// revokes every ticket issued under the old key, without a restart; new
// tickets work at once. Denying a principal in the policy revokes it too.
func TestRevokedTicketRefused(t *testing.T) {
	r := newRig(t)
	recheck = 0
	t.Cleanup(func() { recheck = time.Second })
	cfg := r.config("a", nil)
	a := r.start(t, cfg)
	cl := krbClient(t, r, "alice", "")
	tkt, key, err := cl.GetServiceTicket(spn)
	if err != nil {
		t.Fatal(err)
	}
	if st, body := postWith(t, r, a.url, krbToken(t, cl, tkt, key), "alice@clinic.example"); st != 200 {
		t.Fatalf("before rotation: %d %s", st, body)
	}
	newKT := filepath.Join(r.dir, "new.keytab")
	r.kdc.ServiceKeytab(t, spn, newKT)
	if err := os.Rename(newKT, r.keytab); err != nil {
		t.Fatal(err)
	}
	st, body := postWith(t, r, a.url, krbToken(t, cl, tkt, key), "alice@clinic.example")
	if st != 401 || !strings.Contains(body, CodeUnauthenticated) {
		t.Fatalf("a ticket under the old service key: %d %s", st, body)
	}
	alice := r.login(t, "alice", "", a.url) // a fresh ticket, under the new key
	if _, err := alice.Fetch(context.Background(), clinician("alice@clinic.example")); err != nil {
		t.Fatalf("after rotation, a new ticket: %v", err)
	}
	if !strings.Contains(r.logs.String(), "reloaded") {
		t.Error("the service did not log the keytab reload")
	}

	// Disabling the account in the KDC is not enough at once: MIT's KDC
	// still issues service tickets on the TGT the user already holds (tried
	// here: modprinc -allow_tix), so a leaver is denied by policy as well.
	// A leaver's account, denied by policy on a second replica.
	b := r.start(t, r.config("b", func(c *Config) { c.DeniedPrincipals = []string{"alice@HEIDI.TEST"} }))
	alice.URLs = []string{b.url}
	_, err = alice.Fetch(context.Background(), clinician("alice@clinic.example"))
	if se := refusal(t, err); se.Code != CodeForbidden || !strings.Contains(se.Message, "denied") {
		t.Fatalf("denied principal: %+v", se)
	}
}

func TestReplicaStoppedMidRun(t *testing.T) {
	r := newRig(t)
	cfgA, cfgB := r.config("a", nil), r.config("b", nil)
	a, b := r.start(t, cfgA), r.start(t, cfgB)
	// A black hole first: accepts connections, never answers. The tray must
	// give up on it within its short timeout and move on.
	hole, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer hole.Close()
	holeURL := fmt.Sprintf("https://localhost:%d", hole.Addr().(*net.TCPAddr).Port)
	alice := r.login(t, "alice", "", holeURL, a.url, b.url)
	alice.Timeout = 500 * time.Millisecond
	cache := tokens.New(alice, tokens.Options{})
	defer cache.Close()
	c := clinician("alice@clinic.example")
	if _, err := cache.Get(context.Background(), c); err != nil {
		t.Fatalf("with replica A up: %v", err)
	}
	if n := len(readAudit(t, cfgA.AuditLog)); n != 1 {
		t.Fatalf("replica A audited %d mints, want 1", n)
	}
	a.stop()
	cache.Clear() // as at logout: the next launch needs a new token
	if _, err := cache.Get(context.Background(), c); err != nil {
		t.Fatalf("with replica A stopped: %v", err)
	}
	if n := len(readAudit(t, cfgB.AuditLog)); n != 1 {
		t.Fatalf("replica B audited %d mints, want 1", n)
	}
	b.stop()
	cache.Clear()
	_, err = cache.Get(context.Background(), c)
	if se := refusal(t, err); se.Code != "unreachable" || !strings.Contains(err.Error(), "cannot reach the clinic token service") {
		t.Fatalf("with no replica: %v", err)
	}
}

func TestRateLimits(t *testing.T) {
	r := newRig(t)
	cfg := r.config("a", func(c *Config) { c.PerPrincipalPerMinute = 3; c.GlobalPerMinute = 4 })
	a := r.start(t, cfg)
	alice := r.login(t, "alice", "", a.url)
	bob := r.login(t, "bob", "", a.url)
	ctx := context.Background()
	for i := 0; i < 3; i++ {
		if _, err := alice.Fetch(ctx, clinician("alice@clinic.example")); err != nil {
			t.Fatalf("alice request %d: %v", i+1, err)
		}
	}
	_, err := alice.Fetch(ctx, clinician("alice@clinic.example"))
	if se := refusal(t, err); se.Code != CodeRateLimited || se.Status != 429 {
		t.Fatalf("alice's 4th: %+v", se)
	}
	if _, err := bob.Fetch(ctx, clinician("bob@clinic.example")); err != nil {
		t.Fatalf("bob, under the per-principal limit: %v", err)
	}
	_, err = bob.Fetch(ctx, clinician("bob@clinic.example"))
	if se := refusal(t, err); se.Code != CodeRateLimited {
		t.Fatalf("bob past the global limit: %+v", se)
	}
	if n := len(r.heidi.Calls()); n != 4 {
		t.Fatalf("Heidi calls %d, want 4", n)
	}
	var results []string
	for _, l := range readAudit(t, cfg.AuditLog) {
		results = append(results, l.Principal+":"+l.Result)
	}
	want := "alice@HEIDI.TEST:ok alice@HEIDI.TEST:ok alice@HEIDI.TEST:ok alice@HEIDI.TEST:rate_limited bob@HEIDI.TEST:ok bob@HEIDI.TEST:rate_limited"
	if strings.Join(results, " ") != want {
		t.Fatalf("audit results:\n got %s\nwant %s", strings.Join(results, " "), want)
	}
}

func TestSharedLoginAndKeyRotation(t *testing.T) {
	r := newRig(t)
	recheck = 0
	t.Cleanup(func() { recheck = time.Second })
	cfg := r.config("a", func(c *Config) {
		c.Identity, c.EmailRule, c.AllowedEmailDomains = Shared, "", []string{"clinic.example"}
	})
	a := r.start(t, cfg)
	desk := r.login(t, "frontdesk", "", a.url)
	ctx := context.Background()
	for _, e := range []string{"alice@clinic.example", "bob@clinic.example"} {
		if _, err := desk.Fetch(ctx, clinician(e)); err != nil {
			t.Fatalf("shared login for %s: %v", e, err)
		}
	}
	_, err := desk.Fetch(ctx, clinician("eve@elsewhere.example"))
	if se := refusal(t, err); se.Code != CodeForbidden || !strings.Contains(se.Message, "allowed email domains") {
		t.Fatalf("shared login, other domain: %+v", se)
	}
	// Rotate the region key: Heidi now only takes the new one; the service
	// picks up the new keys file without a restart.
	r.heidi.SetKeys(testKey2)
	writeFile(t, r.keys, `{"AU": "`+testKey2+`"}`)
	if _, err := desk.Fetch(ctx, clinician("alice@clinic.example")); err != nil {
		t.Fatalf("after key rotation: %v", err)
	}
	calls := r.heidi.Calls()
	if last := calls[len(calls)-1]; last.APIKey != testKey2 {
		t.Fatal("the service did not use the rotated key")
	}
	// Heidi revokes the key before IT rotates it: the workstation is told
	// whom to ask, not to set a key it does not have.
	r.heidi.SetKeys("someone-elses-key")
	_, err = desk.Fetch(ctx, clinician("alice@clinic.example"))
	if se := refusal(t, err); se.Code != CodeUpstream || !strings.Contains(se.Message, "clinic IT must replace it") || strings.Contains(se.Message, "key set") {
		t.Fatalf("rejected key: %+v", se)
	}
	r.heidi.SetKeys(testKey2)
	// A broken keys file is refused and the last good keys kept.
	writeFile(t, r.keys, `{"AU": `)
	if _, err := desk.Fetch(ctx, clinician("alice@clinic.example")); err != nil {
		t.Fatalf("with a broken keys file: %v", err)
	}
	audit := readAudit(t, cfg.AuditLog)
	for _, l := range audit {
		if l.Principal != "frontdesk@HEIDI.TEST" || l.Workstation != "ws-frontdesk" {
			t.Errorf("shared-login audit line lacks principal or workstation: %+v", l)
		}
	}
	b, _ := os.ReadFile(cfg.AuditLog)
	r.noSecrets(t, "the audit log", string(b))
	r.noSecrets(t, "the service log", r.logs.String())
}

// keys_source keychain: the keys live in the service account's keychain (a
// real Secret Service here), and a key changed there is used without a restart.
func TestKeysFromTheServiceKeychain(t *testing.T) {
	testrig.SecretService(t)
	r := newRig(t)
	kc := keystore.OS().WithService("heidi-tray-tokenservice-test")
	t.Cleanup(func() { kc.DeleteAPIKey(context.Background(), "AU") })
	if err := kc.SetAPIKey(context.Background(), "AU", keystore.NewAPIKey(testKey)); err != nil {
		t.Fatal(err)
	}
	cfg := r.config("a", func(c *Config) { c.KeysFile, c.KeysSource = "", "keychain" })
	srv, err := New(cfg, Options{Keychain: kc})
	if err != nil {
		t.Fatal(err)
	}
	srv.Close()
	a := r.startWith(t, cfg, Options{Keychain: kc})
	alice := r.login(t, "alice", "", a.url)
	if _, err := alice.Fetch(context.Background(), clinician("alice@clinic.example")); err != nil {
		t.Fatal(err)
	}
	keychainTTL = 0
	t.Cleanup(func() { keychainTTL = 30 * time.Second })
	r.heidi.SetKeys(testKey2)
	if err := kc.SetAPIKey(context.Background(), "AU", keystore.NewAPIKey(testKey2)); err != nil {
		t.Fatal(err)
	}
	if _, err := alice.Fetch(context.Background(), clinician("alice@clinic.example")); err != nil {
		t.Fatalf("after rotating the key in the keychain: %v", err)
	}
	calls := r.heidi.Calls()
	if calls[0].APIKey != testKey || calls[len(calls)-1].APIKey != testKey2 {
		t.Fatal("the service did not use the keychain's keys")
	}
	// An empty keychain is refused at start, with the fix.
	kc.DeleteAPIKey(context.Background(), "AU")
	if _, err := New(cfg, Options{Keychain: kc}); err == nil || !strings.Contains(err.Error(), "heidi-tray key set") {
		t.Fatalf("empty keychain: %v", err)
	}
}
