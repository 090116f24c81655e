package app

import (
	"context"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/heidi-tray/heidi-tray/launcher/config"
	"github.com/heidi-tray/heidi-tray/launcher/ipc"
	"github.com/heidi-tray/heidi-tray/launcher/request"
	"github.com/heidi-tray/heidi-tray/launcher/testrig"
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

// One launch through the whole tray, then Close: every server, the fake
// Heidi and every goroutine are gone (goleak checks after the test).
func TestLaunchThenCloseStopsEverything(t *testing.T) {
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
