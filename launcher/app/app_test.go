package app

import (
	"context"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/heidi-tray/heidi-tray/keystore"
	"github.com/heidi-tray/heidi-tray/launcher"
	"github.com/heidi-tray/heidi-tray/launcher/config"
	"github.com/heidi-tray/heidi-tray/launcher/heidiapi/fakeheidi"
	"github.com/heidi-tray/heidi-tray/launcher/ipc"
	"github.com/heidi-tray/heidi-tray/launcher/request"
	"github.com/heidi-tray/heidi-tray/launcher/testrig"
	"github.com/heidi-tray/heidi-tray/launcher/wire"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type opener struct{ urls chan string }

func (o opener) Open(u string) error { o.urls <- u; return nil }

func sandboxOptions(t *testing.T, env []string) (Options, string) {
	t.Helper()
	cfg, err := config.Load("", env, nil)
	if err != nil {
		t.Fatal(err)
	}
	dir := testrig.ShortTempDir(t)
	return Options{Version: "test", Config: cfg, Sandbox: true, StateDir: filepath.Join(dir, "state"),
		Opener: opener{make(chan string, 4)}, Clipboard: func(string) error { return nil }, Notify: func(string, string) {}}, dir
}

// startSandbox provisions and starts a sandbox tray with its local API on
// a socket of its own.
func startSandbox(t *testing.T) (*App, Options, string) {
	t.Helper()
	opt, dir := sandboxOptions(t, nil)
	sock := filepath.Join(dir, "ipc.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	opt.IPC, opt.Endpoint = ln, sock
	a, err := New(opt)
	if err != nil {
		t.Fatal(err)
	}
	a.Start(context.Background())
	return a, opt, sock
}

// One launch through the whole tray, then Close: every server, the fake
// Heidi and every goroutine are gone (goleak checks after the test).
func TestLaunchThenCloseStopsEverything(t *testing.T) {
	a, opt, sock := startSandbox(t)
	res, err := ipc.NewClient(sock).Open(context.Background(), request.Open{Clinician: request.Clinician{Email: "dr.a@clinic.example", UserID: "42", Region: "AU"}})
	if err != nil || res.Status != "opened" {
		t.Fatalf("launch: %+v %v", res, err)
	}
	if u := <-opt.Opener.(opener).urls; !strings.HasPrefix(u, a.Pages.Origin()+"/launch?code=") {
		t.Fatalf("opened %q", u)
	}
	origin := a.Pages.Origin()
	a.Close()
	a.Close() // idempotent
	if _, err := ipc.NewClient(sock).Status(context.Background()); err == nil {
		t.Error("the local API still answers after Close")
	}
	if c, err := net.DialTimeout("tcp", strings.TrimPrefix(origin, "http://"), time.Second); err == nil {
		c.Close()
		t.Error("the page server still accepts after Close")
	}
	select {
	case <-a.Failed():
		t.Error("a clean Close was reported as a failed server")
	default:
	}
}

// A part that cannot be provisioned (the configured port is taken) leaves
// nothing behind: the fake Heidi started before it is stopped again.
func TestNewFailureCleansUp(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	port := busy.Addr().(*net.TCPAddr).Port
	opt, _ := sandboxOptions(t, []string{"HEIDI_TRAY_PORT=" + strconv.Itoa(port)})
	if _, err := New(opt); err == nil || !strings.Contains(err.Error(), "not available") {
		t.Fatalf("New with a busy port: %v", err)
	}
}

// The note feed over the real local API: list with a cursor, replay on the
// event stream, acknowledge, heartbeat; every answer JSON, 404 and 405 too.
func TestNoteFeedOverTheLocalAPI(t *testing.T) {
	ipc.Heartbeat = 50 * time.Millisecond
	defer func() { ipc.Heartbeat = 15 * time.Second }()
	a, _, sock := startSandbox(t)
	defer a.Close()
	c := ipc.NewClient(sock)
	ctx := context.Background()
	push := func(launch, text string) {
		t.Helper()
		l := launcher.Launch{ID: launch, Req: request.Open{Clinician: request.Clinician{Email: "dr.a@clinic.example", UserID: "42", Region: "AU"}}}
		if _, err := a.Launcher.PushNote(ctx, l, "data", []byte(`{"notesData":"`+text+`"}`)); err != nil {
			t.Fatal(err)
		}
	}
	push("L1", "one")
	push("L1", "two")
	push("L1", "two") // a re-push: recognised, not a third note
	page, err := c.Notes(ctx, 0)
	if err != nil || len(page.Notes) != 2 || page.LastSeq != 2 || page.Notes[0].Seq != 1 || page.Notes[1].Text != "two" {
		t.Fatalf("notes: %+v %v", page, err)
	}
	// A subscriber that was away replays from its cursor, then hears live
	// notes and heartbeats.
	got := make(chan wire.Event, 16)
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go c.EventsAfter(sctx, 1, func(ev wire.Event) bool { got <- ev; return true })
	next := func(typ string) wire.Event {
		t.Helper()
		for {
			select {
			case ev := <-got:
				if ev.Type == typ {
					return ev
				}
			case <-time.After(3 * time.Second):
				t.Fatalf("no %s event", typ)
			}
		}
	}
	if ev := next("note"); ev.Note.Seq != 2 {
		t.Fatalf("replay began with %+v, want seq 2", ev.Note)
	}
	if ev := next("heartbeat"); ev.LastSeq != 2 {
		t.Fatalf("heartbeat %+v", ev)
	}
	push("L2", "three")
	if ev := next("note"); ev.Note.Seq != 3 || ev.Note.LaunchID != "L2" {
		t.Fatalf("live note %+v", ev.Note)
	}
	if st, err := c.AckNote(ctx, page.Notes[0].ID, ""); err != nil || st != "acked" {
		t.Fatal(st, err)
	}
	if st, _ := c.AckNote(ctx, page.Notes[0].ID, ""); st != "already_acked" {
		t.Fatalf("second ack: %s", st)
	}
	if page, _ := c.Notes(ctx, 0); len(page.Notes) != 2 || page.Notes[0].Seq != 2 {
		t.Fatalf("after the ack: %+v", page)
	}
	if _, err := c.AckNote(ctx, "no-such-note", ""); err == nil || err.(*ipc.APIError).Code != "not_found" {
		t.Fatalf("ack of an unknown note: %v", err)
	}
	// Every answer is JSON, even for a wrong path or method.
	for path, want := range map[string]string{"GET /v1/nope": "not_found", "GET /v1/open": "method_not_allowed", "DELETE /v1/notes": "method_not_allowed"} {
		method, p, _ := strings.Cut(path, " ")
		err := ipc.NewClient(sock).Do(ctx, method, p, nil, nil)
		if ae, ok := err.(*ipc.APIError); !ok || ae.Code != want {
			t.Errorf("%s: %v", path, err)
		}
	}
	st, _ := c.Status(ctx)
	if st.APIVersion != 1 || !slices.Contains(st.Capabilities, "notes.ack") {
		t.Fatalf("status %+v", st)
	}
}

// warmRig is the tray against the fake Heidi over TLS (its test CA trusted
// through TestCAFile), with a clinician recorded as last launched here.
func warmRig(t *testing.T, env ...string) (*App, *fakeheidi.Server, *fakeheidi.TLSServer, request.Clinician) {
	t.Helper()
	fake := fakeheidi.New("hk_test_warm")
	ts, err := fake.StartTLS(0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ts.Close)
	dir := testrig.ShortTempDir(t)
	ca := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(ca, ts.CAPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load("", append(env, "HEIDI_TRAY_API_BASE="+ts.URL+fakeheidi.BasePath), nil)
	if err != nil {
		t.Fatal(err)
	}
	keys := keystore.Memory()
	keys.SetAPIKey(context.Background(), "AU", keystore.NewAPIKey("hk_test_warm"))
	last := request.Clinician{Email: "dr.last@clinic.example", UserID: "7", Region: "AU"}
	state := filepath.Join(dir, "state")
	if err := (launcher.LastClinician{Path: filepath.Join(state, "last-clinician.json")}).Set(last); err != nil {
		t.Fatal(err)
	}
	a, err := New(Options{Version: "test", Config: cfg, StateDir: state, Keys: keys, TestCAFile: ca,
		Opener: opener{make(chan string, 8)}, Clipboard: func(string) error { return nil }, Notify: func(string, string) {}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	return a, fake, ts, last
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("never: %s", what)
		}
	}
}

func open(t *testing.T, a *App, c request.Clinician) {
	t.Helper()
	if _, err := a.Launcher.Open(context.Background(), request.Open{Clinician: c}, true); err != nil {
		t.Fatal(err)
	}
	select { // a launch while a window is still loading reuses it: no URL
	case <-a.opt.Opener.(opener).urls:
	default:
	}
}

// At start-up the tray connects to Heidi and fetches the last clinician's
// token before anyone launches: their launch then makes no call, a new
// clinician's launch makes one call on the same connection, and after the
// server drops the connection the next launch still finds one ready.
func TestStartUpWarmsTheConnectionAndTheLastClinician(t *testing.T) {
	a, fake, ts, last := warmRig(t)
	a.Start(context.Background())
	waitUntil(t, "the start-up prefetch", func() bool { _, ok := a.Launcher.Cache().Peek(last); return ok })
	if n, h := len(fake.Calls()), ts.Handshakes(); n != 1 || h != 1 {
		t.Fatalf("start-up: %d calls, %d handshakes; want 1 and 1", n, h)
	}
	open(t, a, last)
	if n := len(fake.Calls()); n != 1 {
		t.Fatalf("the last clinician's first launch called Heidi (%d calls)", n)
	}
	open(t, a, request.Clinician{Email: "dr.new@clinic.example", UserID: "8", Region: "AU"})
	if n, h := len(fake.Calls()), ts.Handshakes(); n != 2 || h != 1 {
		t.Fatalf("a new clinician: %d calls, %d handshakes; want 2 and 1 (the warm connection)", n, h)
	}
	ts.CloseClientConnections()
	waitUntil(t, "a new connection after the server closed it", func() bool { return ts.Handshakes() == 2 })
	waitUntil(t, "the connection is ready", func() bool { return a.Conns.Ready(ts.URL) })
	open(t, a, request.Clinician{Email: "dr.third@clinic.example", UserID: "9", Region: "AU"})
	if n, h := len(fake.Calls()), ts.Handshakes(); n != 3 || h != 2 {
		t.Fatalf("after the server closed: %d calls, %d handshakes; want 3 and 2", n, h)
	}
}

// With prefetch off (an administrator's policy), start-up fetches no token
// and the record of the last clinician is removed.
func TestPrefetchOffFetchesNothingAndForgets(t *testing.T) {
	a, fake, ts, _ := warmRig(t, "HEIDI_TRAY_PREFETCH=false")
	a.Start(context.Background())
	waitUntil(t, "the connection is ready", func() bool { return a.Conns.Ready(ts.URL) })
	a.Close() // waits for the warm-up
	if n := len(fake.Calls()); n != 0 {
		t.Fatalf("%d calls with prefetch off", n)
	}
	if _, err := os.Stat(filepath.Join(a.opt.StateDir, "last-clinician.json")); !os.IsNotExist(err) {
		t.Fatalf("the last clinician record is still there: %v", err)
	}
}

// Signing out forgets the last clinician: the next start-up does not sign
// them in again.
func TestLogoutForgetsTheLastClinician(t *testing.T) {
	a, _, _, _ := warmRig(t)
	a.Start(context.Background())
	if err := a.Launcher.Logout(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, ok := a.Launcher.LastClinician(); ok {
		t.Fatal("the last clinician is remembered after logout")
	}
}

// An unlock of the session (a real screen saver signal on a private session
// bus) fetches the last clinician's token again when it was dropped while
// the screen was locked; locking fetches nothing.
func TestSessionUnlockGetsTheFirstLaunchReady(t *testing.T) {
	testrig.SessionBus(t)
	var logged testrig.SyncBuffer
	a, fake, _, last := warmRig(t)
	a.log = slog.New(slog.NewJSONHandler(&logged, nil))
	a.Start(context.Background())
	defer a.Close() // before the bus goes
	if a.unlock == nil {
		t.Fatal("the tray does not watch for unlocks")
	}
	waitUntil(t, "the start-up prefetch", func() bool { _, ok := a.Launcher.Cache().Peek(last); return ok })
	a.Launcher.Cache().Clear() // e.g. the keychain changed while locked
	screenSaver := func(active string) {
		t.Helper()
		if out, err := exec.Command("dbus-send", "--session", "--type=signal", "/org/gnome/ScreenSaver", "org.gnome.ScreenSaver.ActiveChanged", "boolean:"+active).CombinedOutput(); err != nil {
			t.Fatalf("dbus-send: %v %s", err, out)
		}
	}
	screenSaver("true")
	time.Sleep(300 * time.Millisecond)
	if _, ok := a.Launcher.Cache().Peek(last); ok || len(fake.Calls()) != 1 {
		t.Fatalf("locking fetched a token (%d calls)", len(fake.Calls()))
	}
	screenSaver("false")
	waitUntil(t, "the prefetch after the unlock", func() bool { _, ok := a.Launcher.Cache().Peek(last); return ok })
	if n := len(fake.Calls()); n != 2 {
		t.Fatalf("%d calls to Heidi; want 2 (start-up, unlock)", n)
	}
	// packaging/macos/ci.sh waits for this line after its unlock.
	if want := `"msg":"getting the first launch ready","when":"unlock"`; !strings.Contains(logged.String(), want) {
		t.Fatalf("the log lacks %s:\n%s", want, logged.String())
	}
}
