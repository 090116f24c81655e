//go:build linux

package main

// The widget page in real headless Chromium, driven over the DevTools
// protocol, against the built tray, the fake Heidi and the SDK stand-in.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/heidi-tray/heidi-tray/launcher/ipc"
	"github.com/heidi-tray/heidi-tray/launcher/testrig"
	"github.com/heidi-tray/heidi-tray/launcher/wire"
)

// browser starts headless Chromium for the test and returns its context.
func browser(t *testing.T, w *world) context.Context {
	t.Helper()
	exe := testrig.Chromium(t)
	home := filepath.Join(w.dir, "chromium-home")
	os.MkdirAll(home, 0o700)
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(filepath.Join(w.dir, "chromium-profile")),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.WindowSize(1000, 720),
		chromedp.Env("HOME="+home, "XDG_CONFIG_HOME="+filepath.Join(home, ".config"), "XDG_CACHE_HOME="+filepath.Join(home, ".cache")),
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelC := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelC(); cancelA() })
	if err := chromedp.Do(ctx); err != nil {
		testrig.Missing(t, "headless Chromium", err)
	}
	return ctx
}

func run(t *testing.T, ctx context.Context, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	tctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(tctx, actions...); err != nil {
		t.Fatal(err)
	}
}

func get[T any](t *testing.T, ctx context.Context, a chromedp.Action[T]) T {
	t.Helper()
	tctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	v, err := chromedp.Run(tctx, a)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// sbx reads what the SDK stand-in received.
type sbx struct {
	Constructed, Opened, Closed, SetTokenCalls, SetPatientCalls, Pushes int
	Region, TokenSha, SessionID, Recording, Context                     string
	Patient                                                             *struct{ ID, Name, DOB, Gender string }
	Log                                                                 []string
}

func sandboxState(t *testing.T, ctx context.Context) sbx {
	t.Helper()
	raw := get(t, ctx, chromedp.Evaluate[string](`JSON.stringify(window.__heidiSandbox || {})`))
	var s sbx
	json.Unmarshal([]byte(raw), &s)
	return s
}

func waitFor(t *testing.T, ctx context.Context, what string, cond func(sbx) bool) sbx {
	t.Helper()
	var s sbx
	for i := 0; i < 200; i++ {
		s = sandboxState(t, ctx)
		if cond(s) {
			return s
		}
		time.Sleep(25 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s; sandbox state %+v", what, s)
	return s
}

func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	return get(t, ctx, chromedp.Evaluate[string](`(document.querySelector(`+jsString(sel)+`)||{}).textContent || ""`))
}

func jsString(s string) string { b, _ := json.Marshal(s); return string(b) }

func sha(s string) string { h := sha256.Sum256([]byte(s)); return hex.EncodeToString(h[:]) }

// pageWorld is a running tray (with the SDK stand-in) plus Chromium.
func pageWorld(t *testing.T) (*world, context.Context) {
	w := newWorld(t)
	w.env = append(w.env, "HEIDI_TRAY_WIDGET_SCRIPT=/assets/sdk/heidi-sandbox.js", "HEIDI_TRAY_CLIPBOARD=false")
	w.setKey("AU")
	w.startTray()
	return w, browser(t, w)
}

var drA = []string{"--email", "dr.a@clinic.example", "--user-id", "42"}

func patientArgs(id, name, dob string) []string {
	return []string{"--patient-id", id, "--patient-name", name, "--patient-dob", dob, "--patient-gender", "female"}
}

// openPage launches through the CLI and loads the URL the browser was given.
func openPage(t *testing.T, w *world, ctx context.Context, args ...string) sbx {
	t.Helper()
	before := len(w.browserURLs())
	if r := w.cli("", append([]string{"open"}, args...)...); r.code != 0 || !strings.Contains(r.stdout, "opening") {
		t.Fatalf("open: %+v", r)
	}
	w.waitBrowser(before + 1)
	// The browser opens the private redirect file, as a real one would.
	navigateRedirect(t, ctx, w.browserArgs()[before])
	return waitFor(t, ctx, "the widget to open", func(s sbx) bool { return s.Opened > 0 && s.TokenSha != "" && s.SessionID != "" })
}

// navigateRedirect opens a redirect file and waits until the browser has
// followed it to the page (file:// → /launch → /): the hops interrupt
// chromedp's own wait for the first load.
func navigateRedirect(t *testing.T, ctx context.Context, fileURL string) {
	t.Helper()
	navigateRedirectTo(t, ctx, fileURL, "/")
}

// navigateRedirectTo is navigateRedirect to a page other than the widget's.
func navigateRedirectTo(t *testing.T, ctx context.Context, fileURL, path string) {
	t.Helper()
	tctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(tctx, chromedp.Navigate(fileURL)); err != nil && !strings.Contains(err.Error(), "navigated or closed") {
		t.Fatal(err)
	}
	for tctx.Err() == nil {
		at, err := chromedp.Run(tctx, chromedp.Evaluate[string](`location.protocol + "//" + location.host + location.pathname + "|" + document.readyState`))
		if err == nil && strings.HasPrefix(at, "http://127.0.0.1:") && strings.HasSuffix(at, path+"|complete") {
			return
		}
		time.Sleep(25 * time.Millisecond)
	}
	t.Fatalf("the browser did not follow the redirect file %s to the page", fileURL)
}

func TestPageReceivesTokenNotInURLs(t *testing.T) {
	w, ctx := pageWorld(t)
	s := openPage(t, w, ctx, append(drA, patientArgs("P-1", "Jane Citizen", "1984-03-09")...)...)
	toks := w.fake.IssuedTokens()
	if len(toks) != 1 || s.TokenSha != sha(toks[0]) {
		t.Fatalf("the widget did not get the fake's token")
	}
	if s.Region != "AU" || s.Patient == nil || s.Patient.ID != "P-1" || s.Patient.Name != "Jane Citizen" || s.Patient.DOB != "1984-03-09" {
		t.Fatalf("widget state %+v", s)
	}
	if got := text(t, ctx, "#patient-name"); got != "Jane Citizen" {
		t.Fatalf("banner shows %q", got)
	}
	if got := text(t, ctx, "#patient-dob"); got != "DOB 1984-03-09" {
		t.Fatalf("banner DOB %q", got)
	}
	// The code URL was swapped for a clean one; nothing in history carries the token.
	loc := get(t, ctx, chromedp.Location())
	cookies := get(t, ctx, chromedp.Evaluate[string](`document.cookie`))
	if strings.Contains(loc, "code=") || strings.Contains(loc, toks[0]) {
		t.Fatalf("page URL %q", loc)
	}
	if cookies != "" {
		t.Fatalf("the session cookie is readable from script: %q", cookies)
	}
	hist := get(t, ctx, chromedp.NavigationEntries())
	if len(hist.Entries) < 2 {
		t.Fatalf("history has %d entries", len(hist.Entries))
	}
	for _, e := range hist.Entries {
		if strings.Contains(e.URL, toks[0]) || strings.Contains(e.URL, e2eKey) {
			t.Fatalf("history entry carries a secret: %s", e.URL)
		}
	}
	html := get(t, ctx, chromedp.OuterHTML(chromedp.CSS("html")))
	if strings.Contains(html, toks[0]) || strings.Contains(html, e2eKey) {
		t.Fatal("the token or key is in the page's DOM")
	}
	// A used code does not work twice.
	run(t, ctx, chromedp.Navigate(w.browserURLs()[0]))
	if got := text(t, ctx, "h1"); got != "This link has expired" {
		t.Fatalf("reused code: %q", got)
	}
	w.sweep()
}

func TestTokenExpiryRefreshesAndKeepsRecording(t *testing.T) {
	w, ctx := pageWorld(t)
	first := openPage(t, w, ctx, drA...)
	run(t, ctx, chromedp.Click(chromedp.CSS("#hs-start")))
	waitFor(t, ctx, "recording", func(s sbx) bool { return s.Recording == "RECORDING" })
	run(t, ctx, chromedp.Click(chromedp.CSS("#hs-expire")))
	s := waitFor(t, ctx, "setToken", func(s sbx) bool { return s.SetTokenCalls == 1 })
	if s.TokenSha == first.TokenSha {
		t.Fatal("the page was handed back the token the widget judged expired")
	}
	toks := w.fake.IssuedTokens()
	if len(w.fake.Calls()) != 2 || len(toks) != 2 {
		t.Fatalf("%d upstream calls, want 2 (one fresh token for the refresh)", len(w.fake.Calls()))
	}
	if s.TokenSha != sha(toks[0]) && s.TokenSha != sha(toks[1]) {
		t.Fatal("setToken got a token the fake never issued")
	}
	if s.Recording != "RECORDING" || s.Constructed != 1 || s.Closed != 0 {
		t.Fatalf("the refresh disturbed the recording: %+v", s)
	}
	if st := w.status(); st["state"] != "recording" {
		t.Fatalf("tray state during a recording: %v", st["state"])
	}
	w.sweep()
}

func TestPatientSwitchInTheSamePage(t *testing.T) {
	w, ctx := pageWorld(t)
	first := openPage(t, w, ctx, append(drA, patientArgs("P-1", "Jane Citizen", "1984-03-09")...)...)
	waitLive(t, w)
	opens := len(w.browserURLs())

	r := w.cli("", append(append([]string{"open", "--json"}, drA...), patientArgs("P-2", "John Smith", "1970-01-02")...)...)
	if r.code != 0 || !strings.Contains(r.stdout, `"status": "switched"`) {
		t.Fatalf("switch: %+v", r)
	}
	// A switch opens the patient in a session of its own.
	s := waitFor(t, ctx, "the switch", func(s sbx) bool {
		return s.Patient != nil && s.Patient.ID == "P-2" && s.SessionID != "" && s.SessionID != first.SessionID
	})
	if s.Constructed != 1 {
		t.Fatalf("after the switch: %+v", s)
	}
	if got := text(t, ctx, "#patient-name"); got != "John Smith" {
		t.Fatalf("banner after the switch: %q", got)
	}

	// During a recording the switch is held; after it, until its note is pushed.
	run(t, ctx, chromedp.Click(chromedp.CSS("#hs-start")))
	waitPage(t, ctx, "the tray to hear of the recording", `window.__heidiTray.recording`)
	eventually(t, "the tray's recording state", func() bool { return w.status()["state"] == "recording" })
	r = w.cli("", append(append([]string{"open", "--json"}, drA...), patientArgs("P-3", "Ana Pérez", "1990-05-06")...)...)
	if r.code != 0 || !strings.Contains(r.stdout, `"status": "switch_pending"`) {
		t.Fatalf("switch during a recording: %+v", r)
	}
	waitPage(t, ctx, "the pending notice", `document.querySelector("#notice").textContent.includes("The EMR switched to Ana Pérez. Stop the recording")`)
	run(t, ctx, chromedp.Click(chromedp.CSS("#hs-stop")))
	waitPage(t, ctx, "the push-or-discard prompt", `!!document.querySelector("#discard-and-switch")`)
	if s := sandboxState(t, ctx); s.Patient.ID != "P-2" || text(t, ctx, "#patient-name") != "John Smith" {
		t.Fatalf("the patient changed before the recording's note: %+v", s.Patient)
	}
	run(t, ctx, chromedp.Click(chromedp.CSS("#hs-push")))
	s = waitFor(t, ctx, "the held switch", func(s sbx) bool { return s.Patient != nil && s.Patient.ID == "P-3" })
	if got := text(t, ctx, "#patient-name"); got != "Ana Pérez" {
		t.Fatalf("banner after the held switch: %q", got)
	}
	if n := latestNote(t, w); n.PatientID != "P-2" || n.PatientName != "John Smith" {
		t.Fatalf("the recording's note was filed as %+v", n)
	}
	if n := len(w.browserURLs()); n != opens {
		t.Fatalf("a patient switch opened %d new windows", n-opens)
	}
	if len(w.fake.Calls()) != 1 {
		t.Fatal("a patient switch fetched a new token")
	}

	// Another clinician: the page starts over with its own token, never mixed.
	firstSha := s.TokenSha
	r = w.cli("", "open", "--json", "--email", "dr.b@clinic.example", "--user-id", "77")
	if r.code != 0 || !strings.Contains(r.stdout, `"status": "replaced"`) {
		t.Fatalf("other clinician: %+v", r)
	}
	s = waitFor(t, ctx, "the replacement page", func(s sbx) bool { return s.TokenSha != "" && s.TokenSha != firstSha && s.Opened > 0 })
	if s.Patient != nil || s.Constructed != 1 {
		t.Fatalf("replacement page carried the previous clinician's state: %+v", s)
	}
	if got := text(t, ctx, "#clinician"); got != "dr.b@clinic.example" {
		t.Fatalf("banner clinician %q", got)
	}
	if n := len(w.browserURLs()); n != opens {
		t.Fatal("replacing the clinician opened a new window")
	}
}

// waitLive waits until the page's event stream is connected.
func waitLive(t *testing.T, w *world) {
	t.Helper()
	eventually(t, "the page's event stream", func() bool { return w.status()["open_pages"].(float64) == 1 })
}

// waitPage waits until a JavaScript condition holds in the page.
func waitPage(t *testing.T, ctx context.Context, what, cond string) {
	t.Helper()
	for i := 0; i < 200; i++ {
		if get(t, ctx, chromedp.Evaluate[bool](`(function(){ try { return !!(`+cond+`) } catch (e) { return false } })()`)) {
			return
		}
		time.Sleep(25 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s (%s)", what, cond)
}

// latestNote is the newest note in the outbox.
func latestNote(t *testing.T, w *world) wire.Note {
	t.Helper()
	files := outboxFiles(t, w)
	if len(files) == 0 {
		t.Fatal("no note in the outbox")
	}
	var n wire.Note
	data, _ := os.ReadFile(files[len(files)-1])
	if err := json.Unmarshal(data, &n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestLogoutSignsThePageOut(t *testing.T) {
	w, ctx := pageWorld(t)
	openPage(t, w, ctx, drA...)
	for i := 0; w.status()["open_pages"].(float64) != 1; i++ {
		if i > 200 {
			t.Fatal("page not connected")
		}
		time.Sleep(25 * time.Millisecond)
	}
	if r := w.cli("", "logout"); r.code != 0 {
		t.Fatal(r)
	}
	s := waitFor(t, ctx, "Heidi.close", func(s sbx) bool { return s.Closed == 1 })
	_ = s
	for i := 0; text(t, ctx, "#state-title") != "Signed out"; i++ {
		if i > 200 {
			t.Fatalf("page shows %q", text(t, ctx, "#state-title"))
		}
		time.Sleep(25 * time.Millisecond)
	}
	if st := w.status(); st["cached_tokens"].(float64) != 0 {
		t.Fatalf("tokens cached after logout: %v", st["cached_tokens"])
	}
	// Reloading the page does not bring the session back.
	run(t, ctx, chromedp.Reload())
	time.Sleep(300 * time.Millisecond)
	if got := text(t, ctx, "#state-title"); got != "Signed out" {
		t.Fatalf("after reload: %q", got)
	}
}

func outboxFiles(t *testing.T, w *world) []string {
	t.Helper()
	m, _ := filepath.Glob(filepath.Join(w.dir, "state", "heidi-tray", "outbox", "*.json"))
	return m
}

func TestPushedNoteReachesTheEMR(t *testing.T) {
	w, ctx := pageWorld(t)
	// An EMR waiting on the command line for this launch's note.
	waiter := exec.Command(binary, append(append([]string{"open", "--wait-note"}, drA...), append(patientArgs("P-9", "Mia Wong", "2001-07-08"), "--encounter-id", "E-9")...)...)
	waiter.Env = w.env
	var waitOut bytes.Buffer
	waiter.Stdout = &waitOut
	if err := waiter.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { waiter.Process.Kill(); waiter.Wait() })
	url := w.waitBrowser(1)[0]
	// And one listening to the event stream.
	events := make(chan wire.Event, 8)
	ectx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go ipc.NewClient(filepath.Join(w.dir, "run", "heidi-tray", "ipc.sock")).Events(ectx, func(ev wire.Event) bool {
		if ev.Type == "note" {
			events <- ev
		}
		return true
	})
	run(t, ctx, chromedp.Navigate(url))
	waitFor(t, ctx, "the widget", func(s sbx) bool { return s.SessionID != "" })
	run(t, ctx, chromedp.Click(chromedp.CSS("#hs-push")))
	for i := 0; !strings.Contains(text(t, ctx, "#notice"), "Saved for the EMR"); i++ {
		if i > 200 {
			t.Fatalf("the page never confirmed the note: %q", text(t, ctx, "#notice"))
		}
		time.Sleep(25 * time.Millisecond)
	}
	// The page was told "saved": the tray dies at once, the note must survive.
	tray := w.trays[0]
	tray.Process.Signal(syscall.SIGKILL)
	w.waitExit(tray, 5*time.Second)
	files := outboxFiles(t, w)
	if len(files) != 1 {
		t.Fatalf("%d outbox files", len(files))
	}
	var note wire.Note
	data, _ := os.ReadFile(files[0])
	if err := json.Unmarshal(data, &note); err != nil {
		t.Fatalf("outbox file is not complete JSON: %v", err)
	}
	s := sandboxState(t, ctx)
	if note.Kind != "data" || note.PatientID != "P-9" || note.EncounterID != "E-9" || note.SessionID != s.SessionID ||
		note.Clinician.Email != "dr.a@clinic.example" || !strings.HasPrefix(note.Text, "SANDBOX NOTE 1 for Mia Wong") || note.File != files[0] {
		t.Fatalf("note %+v", note)
	}
	if fi, _ := os.Stat(files[0]); fi.Mode().Perm() != 0o600 {
		t.Fatalf("outbox file mode %v", fi.Mode().Perm())
	}
	// The waiting EMR got the same note on stdout.
	if err := waiter.Wait(); err != nil {
		t.Fatalf("--wait-note: %v", err)
	}
	var waited wire.Note
	if err := json.Unmarshal(waitOut.Bytes(), &waited); err != nil || waited.ID != note.ID || waited.Text != note.Text {
		t.Fatalf("--wait-note printed %q", waitOut.String())
	}
	select {
	case ev := <-events:
		if ev.Note.ID != note.ID {
			t.Fatalf("event stream sent %+v", ev.Note)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("/v1/events did not stream the note")
	}
	// After a restart the note is still there.
	w.startTray()
	if got := outboxFiles(t, w); len(got) != 1 || got[0] != files[0] {
		t.Fatalf("outbox after restart: %v", got)
	}
}

func TestEncounterReopensItsSession(t *testing.T) {
	w, ctx := pageWorld(t)
	args := append(append([]string{}, drA...), append(patientArgs("P-5", "Lee Chan", "1960-01-01"), "--encounter-id", "E-5")...)
	first := openPage(t, w, ctx, args...)
	time.Sleep(200 * time.Millisecond) // the session id reaches the tray
	if r := w.cli("", "logout"); r.code != 0 {
		t.Fatal(r)
	}
	second := openPage(t, w, ctx, args...)
	if second.SessionID != first.SessionID {
		t.Fatalf("the same encounter opened session %q, want %q", second.SessionID, first.SessionID)
	}
	if !strings.Contains(strings.Join(second.Log, ","), "open session "+first.SessionID) {
		t.Fatalf("Heidi.open was not given the session id: %v", second.Log)
	}
	other := openPageAfterLogout(t, w, ctx, append(append([]string{}, drA...), append(patientArgs("P-5", "Lee Chan", "1960-01-01"), "--encounter-id", "E-6")...)...)
	if other.SessionID == first.SessionID {
		t.Fatal("another encounter reused the session")
	}
	// The sessions file holds no emails or patient ids.
	data, _ := os.ReadFile(filepath.Join(w.dir, "state", "heidi-tray", "sessions.json"))
	if len(data) == 0 || bytes.Contains(data, []byte("clinic.example")) || bytes.Contains(data, []byte("P-5")) {
		t.Fatalf("sessions file: %s", data)
	}
}

func openPageAfterLogout(t *testing.T, w *world, ctx context.Context, args ...string) sbx {
	t.Helper()
	if r := w.cli("", "logout"); r.code != 0 {
		t.Fatal(r)
	}
	return openPage(t, w, ctx, args...)
}

func TestSandboxPage(t *testing.T) {
	w := newWorld(t)
	cmd := exec.Command(binary, "sandbox")
	cmd.Env = w.env
	outFile := filepath.Join(w.dir, "sandbox.out")
	cmd.Stdout, _ = os.Create(outFile)
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.own(cmd)
	url := w.waitBrowser(1)[0]
	ctx := browser(t, w)
	run(t, ctx, chromedp.EmulateViewport(1000, 640), chromedp.Navigate(url))
	s := waitFor(t, ctx, "the sandbox widget", func(s sbx) bool { return s.SessionID != "" })
	if s.Patient == nil || s.Patient.Name != "Jane Citizen" {
		t.Fatalf("demo launch: %+v", s)
	}
	if text(t, ctx, "#sandbox-badge") != "SANDBOX" || !strings.Contains(get(t, ctx, chromedp.Title()), "SANDBOX") {
		t.Fatal("the sandbox page is not labelled SANDBOX")
	}
	if len(w.fake.Calls()) != 0 {
		t.Fatal("the sandbox called the configured Heidi instead of its own fake")
	}
	if st := w.status(); st["sandbox"] != true {
		t.Fatalf("status: %v", st)
	}
	if out, _ := os.ReadFile(outFile); !strings.Contains(string(out), "SANDBOX is running") {
		t.Fatalf("sandbox banner: %s", out)
	}
	png := get(t, ctx, chromedp.CaptureScreenshot())
	if len(png) < 5000 || string(png[1:4]) != "PNG" {
		t.Fatalf("screenshot of %d bytes", len(png))
	}
	if dst := os.Getenv("HEIDI_TRAY_SCREENSHOT"); dst != "" { // refresh docs/sandbox.png
		os.WriteFile(dst, png, 0o644)
	}
}

// A page on another origin — even another port of 127.0.0.1, which the
// browser treats as the same site and sends the session cookie to — cannot
// push notes, read the token or act on the page server.
func TestCrossOriginPageIsRefused(t *testing.T) {
	w, ctx := pageWorld(t)
	openPage(t, w, ctx, drA...)
	target := get(t, ctx, chromedp.Evaluate[string](`location.origin`))
	evil := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		rw.Header().Set("Content-Type", "text/html")
		fmt.Fprintf(rw, `<!doctype html><title>evil</title><form id=f method=POST action=%[1]s/api/push enctype=text/plain><input name='{"kind":"data","payload":{"x":"' value='"}}'></form>
<script>
window.results = [];
const body = JSON.stringify({kind: "data", payload: {notesData: "forged"}});
Promise.allSettled([
  fetch("%[1]s/api/push", {method: "POST", mode: "no-cors", credentials: "include", headers: {"Content-Type": "text/plain"}, body}),
  fetch("%[1]s/api/push", {method: "POST", credentials: "include", headers: {"Content-Type": "application/json"}, body}),
  fetch("%[1]s/api/session", {method: "POST", credentials: "include", headers: {"Content-Type": "application/json"}, body: "{}"}).then(r => r.text()),
]).then(rs => { window.results = rs.map(r => r.status + ":" + (r.value && r.value.length || 0)); window.done = true; });
</script>`, target)
	}))
	defer evil.Close()
	run(t, ctx, chromedp.Navigate(evil.URL))
	for i := 0; !get(t, ctx, chromedp.Evaluate[bool](`window.done === true`)); i++ {
		if i > 200 {
			t.Fatal("attack page never finished")
		}
		time.Sleep(25 * time.Millisecond)
	}
	if res := get(t, ctx, chromedp.Evaluate[[]string](`window.results`)); len(res) != 3 || res[2] != "rejected:0" {
		t.Fatalf("the attacker could read the session answer: %v", res)
	}
	get(t, ctx, chromedp.Evaluate[bool](`document.getElementById("f").submit(), true`))
	time.Sleep(500 * time.Millisecond)
	if files := outboxFiles(t, w); len(files) != 0 {
		t.Fatalf("a forged note reached the outbox: %v", files)
	}
	if n := len(w.fake.Calls()); n != 1 {
		t.Fatalf("the attack caused %d token fetches", n-1)
	}
}

func TestWidgetScriptThatCannotLoadIsExplained(t *testing.T) {
	w := newWorld(t)
	w.env = append(w.env, "HEIDI_TRAY_WIDGET_SCRIPT=http://127.0.0.1:9/widget/heidi.js") // nothing listens on port 9
	w.setKey("AU")
	w.startTray()
	ctx := browser(t, w)
	if r := w.cli("", append([]string{"open"}, drA...)...); r.code != 0 {
		t.Fatal(r)
	}
	run(t, ctx, chromedp.Navigate(w.waitBrowser(1)[0]))
	for i := 0; text(t, ctx, "#state-title") != "Heidi's widget could not be loaded"; i++ {
		if i > 200 {
			t.Fatalf("page shows %q", text(t, ctx, "#state-title"))
		}
		time.Sleep(25 * time.Millisecond)
	}
	if msg := text(t, ctx, "#state-text"); !strings.Contains(msg, "offline") || !strings.Contains(msg, "proxy") {
		t.Fatalf("explanation %q", msg)
	}
}

func TestPushedNoteGoesToTheClipboard(t *testing.T) {
	testrig.Need(t, "xclip", "xclip")
	w := newWorld(t)
	display := testrig.Xvfb(t)
	w.env = append(w.env, "DISPLAY="+display, "HEIDI_TRAY_WIDGET_SCRIPT=/assets/sdk/heidi-sandbox.js") // clipboard on: the default
	w.setKey("AU")
	w.startTray()
	ctx := browser(t, w)
	openPage(t, w, ctx, append(drA, patientArgs("P-4", "Noa Levi", "1999-09-09")...)...)
	run(t, ctx, chromedp.Click(chromedp.CSS("#hs-push")))
	for i := 0; !strings.Contains(text(t, ctx, "#notice"), "copied to the clipboard"); i++ {
		if i > 200 {
			t.Fatalf("notice %q", text(t, ctx, "#notice"))
		}
		time.Sleep(25 * time.Millisecond)
	}
	out := exec.Command("xclip", "-o", "-selection", "clipboard")
	out.Env = testrig.SetEnv(os.Environ(), "DISPLAY="+display)
	got, err := out.Output()
	if err != nil || !strings.HasPrefix(string(got), "SANDBOX NOTE 1 for Noa Levi\nS: cough") {
		t.Fatalf("clipboard holds %q (%v)", got, err)
	}
	// Marked for clipboard managers to keep out of their history.
	hint := exec.Command("xclip", "-o", "-selection", "clipboard", "-t", "x-kde-passwordManagerHint")
	hint.Env = out.Env
	if got, err := hint.Output(); err != nil || string(got) != "secret" {
		t.Fatalf("the note is not marked sensitive: %q (%v)", got, err)
	}
	// The tray serves the clipboard: once it stops, the note is gone.
	w.cli("", "quit")
	if !w.waitExit(w.trays[len(w.trays)-1], 5*time.Second) {
		t.Fatal("the tray did not stop")
	}
	if got, err := exec.Command("sh", "-c", "DISPLAY="+display+" xclip -o -selection clipboard").Output(); err == nil {
		t.Fatalf("the clipboard still holds %q after the tray stopped", got)
	}
}
