//go:build linux

package main

import (
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/godbus/dbus/v5"

	"github.com/heidi-tray/heidi-tray/launcher/testrig"
	"github.com/heidi-tray/heidi-tray/launcher/urlscheme"
)

func openURL(email, userID string, extra ...string) string {
	q := "email=" + url.QueryEscape(email) + "&user_id=" + url.QueryEscape(userID)
	for i := 0; i+1 < len(extra); i += 2 {
		q += "&" + extra[i] + "=" + url.QueryEscape(extra[i+1])
	}
	return "heidi-tray://open?" + q
}

func TestURLLaunchAsksBeforeANewClinician(t *testing.T) {
	w, ctx := pageWorld(t)
	u := openURL("dr.b@clinic.example", "42", "patient_id", "P-7", "patient_name", "Ana Pérez")
	r := w.cli("", "url", "--", u)
	if r.code != 0 || !strings.Contains(r.stdout, "Confirm in the browser") {
		t.Fatalf("first URL launch: %+v", r)
	}
	confirm := w.waitBrowser(1)[0]
	if !strings.Contains(confirm, "/confirm?code=") {
		t.Fatalf("browser got %q, want the confirmation page", confirm)
	}
	if n := len(w.fake.Calls()); n != 0 {
		t.Fatalf("%d JWT calls before the person confirmed", n)
	}
	navigateRedirectTo(t, ctx, w.browserArgs()[0], "/confirm") // as a browser would: through the redirect file
	if q := text(t, ctx, "#question"); q != "The EMR asks to open Heidi as dr.b@clinic.example (EMR user 42) (region AU). Continue?" {
		t.Fatalf("question %q", q)
	}
	if loc := get(t, ctx, chromedp.Location()); strings.Contains(loc, "code=") {
		t.Fatalf("the confirmation code stayed in the address bar: %s", loc)
	}
	time.Sleep(300 * time.Millisecond)
	if n := len(w.fake.Calls()); n != 0 {
		t.Fatal("showing the question fetched a token")
	}
	run(t, ctx, chromedp.Click(chromedp.CSS("#continue")))
	s := waitFor(t, ctx, "the widget after confirming", func(s sbx) bool { return s.SessionID != "" })
	if s.Patient == nil || s.Patient.ID != "P-7" || len(w.fake.Calls()) != 1 || w.fake.Calls()[0].Email != "dr.b@clinic.example" {
		t.Fatalf("after confirming: %+v, %d calls", s, len(w.fake.Calls()))
	}

	// The bound clinician needs no confirmation page; the open window asks
	// before it changes patient (an unsigned URL), and switches on Switch.
	r = w.cli("", "url", "--", openURL("dr.b@clinic.example", "42", "patient_id", "P-8", "patient_name", "Bo Li"))
	if r.code != 0 || strings.Contains(r.stdout, "Confirm") {
		t.Fatalf("bound clinician: %+v", r)
	}
	waitPage(t, ctx, "the Switch button", `!!document.querySelector("#ask-switch")`)
	run(t, ctx, chromedp.Click(chromedp.CSS("#ask-switch")))
	waitFor(t, ctx, "the switch", func(s sbx) bool { return s.Patient != nil && s.Patient.ID == "P-8" })

	// Another clinician asks again, and Cancel opens nothing.
	before := len(w.browserURLs())
	r = w.cli("", "url", "--", openURL("dr.c@clinic.example", "99"))
	if r.code != 0 || !strings.Contains(r.stdout, "Confirm") {
		t.Fatalf("other clinician: %+v", r)
	}
	confirm = w.waitBrowser(before + 1)[before]
	run(t, ctx, chromedp.Navigate(confirm))
	if q := text(t, ctx, "#question"); !strings.Contains(q, "dr.c@clinic.example (EMR user 99)") {
		t.Fatalf("question %q", q)
	}
	run(t, ctx, chromedp.Click(chromedp.CSS("#cancel")))
	for i := 0; !strings.Contains(text(t, ctx, "#result"), "Cancelled"); i++ {
		if i > 200 {
			t.Fatalf("result %q", text(t, ctx, "#result"))
		}
		time.Sleep(25 * time.Millisecond)
	}
	if n := len(w.fake.Calls()); n != 1 {
		t.Fatalf("cancel fetched a token (%d calls)", n)
	}
	// The question cannot be answered twice.
	run(t, ctx, chromedp.Navigate(confirm))
	if h := text(t, ctx, "h1"); h != "This request has expired" {
		t.Fatalf("reused confirmation: %q", h)
	}
}

func TestCommandLineLaunchBindsTheClinician(t *testing.T) {
	w := newWorld(t)
	w.setKey("AU")
	w.startTray()
	if r := w.cli("", "open", "--email", "dr.d@clinic.example", "--user-id", "5"); r.code != 0 {
		t.Fatal(r)
	}
	r := w.cli("", "url", "--", openURL("dr.d@clinic.example", "5"))
	if r.code != 0 || !strings.Contains(r.stdout, "opening") {
		t.Fatalf("URL for the clinician the EMR opened: %+v", r)
	}
	// Same email, another EMR user id: a different clinician.
	if r := w.cli("", "url", "--", openURL("dr.d@clinic.example", "6")); !strings.Contains(r.stdout, "Confirm") {
		t.Fatalf("different user id went straight through: %+v", r)
	}
}

// sign appends the signature the way docs/url-scheme.md tells EMR vendors to.
func sign(secret string, raw string) string {
	action, query, _ := strings.Cut(strings.TrimPrefix(raw, "heidi-tray://"), "?")
	vals, err := url.ParseQuery(query)
	if err != nil {
		panic(err)
	}
	params := map[string]string{}
	for k, v := range vals {
		params[k] = v[0]
	}
	return raw + "&sig=" + urlscheme.Sign([]byte(secret), action, params)
}

func TestSignedURLs(t *testing.T) {
	w := newWorld(t)
	w.setKey("AU")
	const secret = "clinic-launch-secret-e2e-0123456789"
	if r := w.cli(secret+"\n", "secret", "set"); r.code != 0 {
		t.Fatal(r)
	}
	t.Cleanup(func() { w.cli("", "secret", "delete") })
	w.extraSecrets = append(w.extraSecrets, secret)
	notes := startNotifications(t)
	w.startTray()

	if r := w.cli("", "url", "--", openURL("dr.e@clinic.example", "1")); r.code != 1 || !strings.Contains(r.stderr, "not signed") {
		t.Fatalf("unsigned: %+v", r)
	}
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	good := sign(secret, openURL("dr.e@clinic.example", "1", "patient_id", "P1", "patient_name", "Jane Citizen", "ts", ts, "nonce", "e2e-nonce-"+ts+"-0001"))
	if r := w.cli("", "url", "--", good); r.code != 0 || !strings.Contains(r.stdout, "opening") {
		t.Fatalf("signed: %+v", r)
	}
	w.waitBrowser(1)
	if r := w.cli("", "url", "--", good); r.code != 1 || !strings.Contains(r.stderr, "replayed") {
		t.Fatalf("replay: %+v", r)
	}
	old := strconv.FormatInt(time.Now().Add(-10*time.Minute).Unix(), 10)
	stale := sign(secret, openURL("dr.e@clinic.example", "1", "ts", old, "nonce", "e2e-nonce-"+old+"-0002"))
	if r := w.cli("", "url", "--", stale); r.code != 1 || !strings.Contains(r.stderr, "clock") {
		t.Fatalf("stale: %+v", r)
	}
	forged := strings.Replace(sign(secret, openURL("dr.e@clinic.example", "1", "ts", ts, "nonce", "e2e-nonce-"+ts+"-0003")), "dr.e", "dr.f", 1)
	if r := w.cli("", "url", "--", forged); r.code != 1 || !strings.Contains(r.stderr, "signature does not match") {
		t.Fatalf("forged: %+v", r)
	}
	if n := len(w.fake.Calls()); n != 1 {
		t.Fatalf("%d JWT calls; only the good URL may fetch", n)
	}
	if seen := notes.all(); len(seen) != 4 || !strings.HasPrefix(seen[0], "Heidi launch refused: ") || !strings.Contains(seen[0], "not signed") {
		t.Fatalf("each refused URL should notify the clinician; got %q", seen)
	}
	w.sweep()
}

func TestURLArgumentHandling(t *testing.T) {
	w := newWorld(t)
	cases := [][]string{
		{"url"},
		{"url", "--", "heidi-tray://open?email=a%40b.example&user_id=1", "--x"},
		{"url", "--gpu-launcher=calc"},
		{"url", "--", "https://evil.example/"},
	}
	for _, args := range cases {
		if r := w.cli("", args...); r.code != 2 {
			t.Errorf("%v: %+v", args, r)
		}
	}
	w.setKey("AU")
	w.startTray()
	r := w.cli("", "url", "--", "heidi-tray://open?email=a%40b.example&user_id=1&admin=1")
	if r.code != 1 || !strings.Contains(r.stderr, `unknown parameter "admin"`) {
		t.Fatalf("unknown parameter: %+v", r)
	}
}

func TestDomainPolicyOnEveryChannel(t *testing.T) {
	w := newWorld(t)
	w.env = append(w.env, "HEIDI_TRAY_ALLOWED_EMAIL_DOMAINS=clinic.example")
	w.setKey("AU")
	w.startTray()
	if r := w.cli("", "open", "--email", "dr@evil.example", "--user-id", "1"); r.code != 1 || !strings.Contains(r.stderr, "not in an allowed email domain") {
		t.Fatalf("CLI: %+v", r)
	}
	if r := w.cli("", "url", "--", openURL("dr@evil.example", "1")); r.code != 1 || !strings.Contains(r.stderr, "not in an allowed email domain") {
		t.Fatalf("URL: %+v", r)
	}
	if len(w.fake.Calls()) != 0 || len(w.browserURLs()) != 0 {
		t.Fatal("a refused domain reached Heidi or the browser")
	}
}

func TestInstallRegistersTheScheme(t *testing.T) {
	testrig.Need(t, "xdg-mime", "xdg-utils")
	testrig.Need(t, "xdg-open", "xdg-utils")
	w := newWorld(t)
	w.env = append(w.env, "DISPLAY=:99") // xdg-open hands URLs to scheme handlers only "with a display"
	bin := filepath.Join(w.dir, "bin", "heidi-tray")
	os.MkdirAll(filepath.Dir(bin), 0o755)
	data, _ := os.ReadFile(binary)
	os.WriteFile(bin, data, 0o755)
	inst := func(args ...string) result {
		cmd := exec.Command(bin, args...)
		cmd.Env = w.env
		out, err := cmd.CombinedOutput()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		}
		return result{code: code, stdout: string(out)}
	}
	r := inst("install")
	if r.code != 0 || !strings.Contains(r.stdout, "wrote:") || !strings.Contains(r.stdout, "registered:") {
		t.Fatalf("install: %+v", r)
	}
	if r := inst("install"); r.code != 0 || strings.Contains(r.stdout, "wrote:") || strings.Contains(r.stdout, "registered:") {
		t.Fatalf("second install changed something: %+v", r)
	}
	query := func() string {
		cmd := exec.Command("xdg-mime", "query", "default", "x-scheme-handler/heidi-tray")
		cmd.Env = w.env
		out, _ := cmd.Output()
		return strings.TrimSpace(string(out))
	}
	if got := query(); got != "heidi-tray.desktop" {
		t.Fatalf("xdg-mime query default: %q", got)
	}
	// xdg-open delivers a URL to the running tray (bound clinician: opens at once).
	w.setKey("AU")
	w.startTray()
	w.cli("", "open", "--email", "dr.g@clinic.example", "--user-id", "8")
	w.cli("", "logout") // no window is left loading: the URL opens its own
	open := exec.Command("xdg-open", openURL("dr.g@clinic.example", "8", "patient_id", "P-3", "patient_name", "Kim Lee"))
	open.Env = w.env
	if out, err := open.CombinedOutput(); err != nil {
		t.Fatalf("xdg-open: %v %s", err, out)
	}
	if urls := w.waitBrowser(2); !launchURL.MatchString(urls[1]) {
		t.Fatalf("browser got %v", urls)
	}

	r = inst("uninstall")
	if r.code != 0 || !strings.Contains(r.stdout, "stopped: the running tray") || strings.Count(r.stdout, "removed:") < 3 {
		t.Fatalf("uninstall: %+v", r)
	}
	if got := query(); got != "" {
		t.Fatalf("after uninstall xdg-mime still answers %q", got)
	}
	var left []string
	for _, dir := range []string{"config", "home"} {
		filepath.Walk(filepath.Join(w.dir, dir), func(p string, fi os.FileInfo, err error) error {
			if err == nil && !fi.IsDir() && strings.Contains(fi.Name(), "heidi-tray") {
				left = append(left, p)
			}
			if err == nil && !fi.IsDir() && fi.Name() == "mimeapps.list" {
				if b, _ := os.ReadFile(p); strings.Contains(string(b), "heidi-tray") {
					left = append(left, p)
				}
			}
			return nil
		})
	}
	if len(left) != 0 {
		t.Fatalf("uninstall left behind: %v", left)
	}
	if r := inst("uninstall"); r.code != 0 || strings.Contains(r.stdout, "removed:") {
		t.Fatalf("second uninstall: %+v", r)
	}
}

// notifications is a test-owned org.freedesktop.Notifications server.
type notifications struct {
	mu   sync.Mutex
	seen []string
}

func (n *notifications) Notify(app string, replaces uint32, icon, summary, body string, actions []string, hints map[string]dbus.Variant, timeout int32) (uint32, *dbus.Error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.seen = append(n.seen, summary+": "+body)
	return uint32(len(n.seen)), nil
}

func (n *notifications) all() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]string(nil), n.seen...)
}

func startNotifications(t *testing.T) *notifications {
	t.Helper()
	conn, err := dbus.Connect(os.Getenv("DBUS_SESSION_BUS_ADDRESS"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	n := &notifications{}
	conn.Export(n, "/org/freedesktop/Notifications", "org.freedesktop.Notifications")
	if r, err := conn.RequestName("org.freedesktop.Notifications", dbus.NameFlagDoNotQueue); err != nil || r != dbus.RequestNameReplyPrimaryOwner {
		t.Fatalf("owning the notifications name: %v %v", r, err)
	}
	return n
}
