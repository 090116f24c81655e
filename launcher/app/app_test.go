package app

import (
	"context"
	"net"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/heidi-tray/heidi-tray/launcher"
	"github.com/heidi-tray/heidi-tray/launcher/config"
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
