package app_test

import (
	"bytes"
	"context"
	"errors"
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

	"github.com/heidi-tray/heidi-tray/keystore"
	"github.com/heidi-tray/heidi-tray/launcher"
	"github.com/heidi-tray/heidi-tray/launcher/app"
	"github.com/heidi-tray/heidi-tray/launcher/config"
	"github.com/heidi-tray/heidi-tray/launcher/heidiapi/fakeheidi"
	"github.com/heidi-tray/heidi-tray/launcher/ipc"
	"github.com/heidi-tray/heidi-tray/launcher/request"
	"github.com/heidi-tray/heidi-tray/launcher/testrig"
	"github.com/heidi-tray/heidi-tray/launcher/wire"
)

const testKey = "hk_live_policy_test_key_01"

type nopOpener struct{}

func (nopOpener) Open(string) error { return nil }

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// The kill switch and allowed_email_domains, changed in the config file
// under a running tray, refuse the next launch over the local API, with a
// log line and a tray state; turned back on, launches work again.
func TestLivePolicyReachesTheLocalAPI(t *testing.T) {
	dir := testrig.ShortTempDir(t)
	file := filepath.Join(dir, "config.toml")
	load := func() (*config.Config, error) { return config.Load(file, nil, nil) }
	cfg, err := load()
	if err != nil {
		t.Fatal(err)
	}
	fake := fakeheidi.New(testKey)
	up := httptest.NewServer(fake)
	defer up.Close()
	keys := keystore.Memory()
	keys.SetAPIKey(context.Background(), "AU", keystore.NewAPIKey(testKey))
	sock := filepath.Join(dir, "ipc.sock")
	il, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuf{}
	var notes []string
	var mu sync.Mutex
	a, err := app.New(app.Options{
		Version: "test", Config: cfg, Log: slog.New(slog.NewJSONHandler(logs, nil)), StateDir: filepath.Join(dir, "state"),
		IPC: il, Endpoint: sock, Keys: keys, Opener: nopOpener{}, Clipboard: func(string) error { return nil },
		HeidiHTTP: &http.Client{Timeout: time.Second},
		HeidiBase: func(string) (string, error) { return up.URL + fakeheidi.BasePath, nil },
		Notify:    func(title, _ string) { mu.Lock(); notes = append(notes, title); mu.Unlock() },
		Reload:    load, WatchFiles: []string{file}, WatchInterval: 50 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	a.Start(context.Background())
	defer a.Close()
	client := ipc.NewClient(sock)
	dr := request.Open{Clinician: request.Clinician{Email: "dr.a@clinic.example", UserID: "42", Region: "AU"}}
	open := func() error {
		_, err := client.Open(context.Background(), dr)
		return err
	}
	code := func(err error) string {
		var ae *ipc.APIError
		if errors.As(err, &ae) {
			return ae.Code
		}
		return ""
	}
	// eventually retries the next launch until it has the wanted outcome:
	// the watcher polls, so "the next request" is the first after it.
	eventually := func(want string) error {
		t.Helper()
		var err error
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(25 * time.Millisecond) {
			if err = open(); code(err) == want {
				return err
			}
		}
		t.Fatalf("want %q, last launch gave %v; log:\n%s", want, err, logs.String())
		return nil
	}
	if err := open(); err != nil {
		t.Fatal(err)
	}
	calls := len(fake.Calls())
	os.WriteFile(file, []byte("disabled = true\n"), 0o600)
	err = eventually(wire.CodeDisabled)
	if !strings.Contains(err.Error(), "turned off") || !strings.Contains(err.Error(), "config.toml") {
		t.Fatalf("the refusal should say why and where: %v", err)
	}
	if n := len(fake.Calls()); n != calls {
		t.Fatalf("a refused launch reached Heidi (%d calls, was %d)", n, calls)
	}
	if st := a.Launcher.State(); st.Kind != launcher.StateError || st.Message != "Turned off by your administrator" {
		t.Fatalf("tray state %+v", st)
	}
	if !strings.Contains(logs.String(), "heidi-tray is turned off") {
		t.Fatalf("no log line for the kill switch:\n%s", logs.String())
	}
	// The page's token calls stop too (every channel).
	if _, err := a.Launcher.Token(context.Background(), dr.Clinician); launcher.ErrorCode(err) != wire.CodeDisabled {
		t.Fatalf("the page still gets tokens: %v", err)
	}
	os.WriteFile(file, []byte("allowed_email_domains = [\"other.example\"]\n"), 0o600)
	eventually(wire.CodeDomainNotAllowed)
	if st := a.Launcher.State(); st.Message == "Turned off by your administrator" {
		t.Fatalf("still shown as turned off: %+v", st)
	}
	os.WriteFile(file, []byte("# back to defaults\n"), 0o600)
	eventually("")
	mu.Lock()
	defer mu.Unlock()
	if len(notes) == 0 || notes[0] != "heidi-tray is turned off" {
		t.Fatalf("notifications %v", notes)
	}
}
