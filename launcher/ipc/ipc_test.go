//go:build !windows

package ipc

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/heidi-tray/heidi-tray/launcher/request"
	"github.com/heidi-tray/heidi-tray/launcher/testrig"
	"github.com/heidi-tray/heidi-tray/launcher/wire"
)

func TestMain(m *testing.M) {
	if p := os.Getenv("IPC_HELPER_DIAL"); p != "" {
		c := NewClient(p)
		_, err := c.Status(context.Background())
		fmt.Println("RESULT:", err)
		return
	}
	testrig.Main(m)
}

type fakeService struct {
	mu    sync.Mutex
	opens []request.Open
}

func (f *fakeService) Open(_ context.Context, o request.Open, trusted bool) (wire.OpenResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.opens = append(f.opens, o)
	return wire.OpenResult{Status: "opened", LaunchID: "L1"}, nil
}
func (f *fakeService) OpenURL(context.Context, string) (wire.OpenResult, error) {
	return wire.OpenResult{Status: "confirm"}, nil
}
func (f *fakeService) Logout(context.Context) error { return nil }
func (f *fakeService) Status(context.Context) wire.Status {
	return wire.Status{Region: "AU", State: "ready"}
}
func (f *fakeService) OpenSettings() error { return nil }
func (f *fakeService) KeysChanged()        {}
func (f *fakeService) ProvideToken(context.Context, request.Clinician, string, time.Duration) error {
	return nil
}
func (f *fakeService) Window(context.Context) wire.WindowState { return wire.WindowState{} }
func (f *fakeService) Notes(context.Context, uint64, int) ([]wire.Note, uint64, error) {
	return nil, 0, nil
}
func (f *fakeService) AckNote(context.Context, string, string) (bool, error) { return false, nil }
func (f *fakeService) ClaimNote(context.Context, string, string, time.Duration) error {
	return nil
}
func (f *fakeService) LastSeq() uint64       { return 0 }
func (f *fakeService) DefaultRegion() string { return "AU" }
func (f *fakeService) Quit()                 {}
func (f *fakeService) WaitNote(ctx context.Context, id string) (*wire.Note, error) {
	return &wire.Note{ID: "n1", LaunchID: id, Text: "hello"}, nil
}
func (f *fakeService) Subscribe(ctx context.Context) <-chan wire.Event {
	ch := make(chan wire.Event, 1)
	ch <- wire.Event{Type: "state", State: "ready"}
	go func() { <-ctx.Done(); close(ch) }()
	return ch
}

func serve(t testing.TB) (*fakeService, Endpoint, *http.Client) {
	t.Helper()
	dir := testrig.ShortTempDir(t)
	ep := Endpoint{Path: filepath.Join(dir, "ipc.sock"), lock: filepath.Join(dir, "instance.lock")}
	l, release, err := ep.Listen()
	if err != nil {
		t.Fatal(err)
	}
	svc := &fakeService{}
	srv := NewServer(svc, slog.New(slog.DiscardHandler))
	go srv.Serve(l)
	t.Cleanup(func() { srv.Shutdown(context.Background()); release() })
	hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return Dial(ctx, ep.Path)
	}}}
	return svc, ep, hc
}

func post(t *testing.T, hc *http.Client, path, ctype, body string, hdr ...string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", "http://heidi-tray"+path, strings.NewReader(body))
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestOpenValidationOverTheSocket(t *testing.T) {
	svc, _, hc := serve(t)
	const ok = `{"email":"dr.a@clinic.example","user_id":"42"}`
	cases := []struct {
		name, ctype, body string
		status            int
		mention           string
	}{
		{"minimal", "application/json", ok, 200, `"opened"`},
		{"full", "application/json", `{"email":"dr.a@clinic.example","user_id":"42","region":"uk","patient":{"id":"P1","name":"Jane","dob":"1984-03-09","gender":"Female"},"encounter_id":"E1","context":"x"}`, 200, `"opened"`},
		{"unknown field", "application/json", `{"email":"dr.a@clinic.example","user_id":"42","admin":true}`, 400, `unknown field \"admin\"`},
		{"unknown patient field", "application/json", `{"email":"dr.a@clinic.example","user_id":"42","patient":{"id":"P","name":"N","ssn":"1"}}`, 400, "unknown field"},
		{"trailing data", "application/json", ok + `{"x":1}`, 400, "after the JSON object"},
		{"duplicate key", "application/json", `{"email":"dr.a@clinic.example","email":"dr.b@clinic.example","user_id":"42"}`, 400, `field \"email\" appears twice`},
		{"duplicate nested key", "application/json", `{"email":"dr.a@clinic.example","user_id":"42","patient":{"id":"P","id":"Q","name":"N"}}`, 400, "appears twice"},
		{"not json", "application/json", `email=dr`, 400, "not valid JSON"},
		{"empty", "application/json", ``, 400, "empty"},
		{"wrong type", "application/json", `{"email":"dr.a@clinic.example","user_id":42}`, 400, `\"user_id\" must be a string`},
		{"text/plain", "text/plain", ok, 415, "application/json"},
		{"form", "application/x-www-form-urlencoded", ok, 415, "application/json"},
		{"bad email", "application/json", `{"email":"nobody","user_id":"42"}`, 400, "email"},
		{"bad dob", "application/json", `{"email":"dr.a@clinic.example","user_id":"42","patient":{"id":"P","name":"N","dob":"1984-13-01"}}`, 400, "patient_dob"},
		{"bad region", "application/json", `{"email":"dr.a@clinic.example","user_id":"42","region":"mars"}`, 400, "region"},
		{"oversize", "application/json", `{"email":"dr.a@clinic.example","user_id":"42","context":"` + strings.Repeat("x", MaxBody) + `"}`, 413, "larger than"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, body := post(t, hc, "/v1/open", tc.ctype, tc.body)
			if status != tc.status || !strings.Contains(body, tc.mention) {
				t.Fatalf("got %d %s, want %d mentioning %q", status, body, tc.status, tc.mention)
			}
			if status != 200 && !strings.Contains(body, `"error":{"code":`) {
				t.Fatalf("error body not in the documented shape: %s", body)
			}
		})
	}
	svc.mu.Lock()
	defer svc.mu.Unlock()
	if len(svc.opens) != 2 || svc.opens[0].Region != "AU" || svc.opens[1].Region != "UK" || svc.opens[1].Patient.Gender != "female" {
		t.Fatalf("service saw %+v", svc.opens)
	}
}

func TestBrowsersAreRefused(t *testing.T) {
	svc, _, hc := serve(t)
	for _, h := range [][]string{{"Origin", "http://evil.example"}, {"Referer", "http://evil.example/x"}, {"Origin", "null"}, {"Sec-Fetch-Site", "cross-site"}} {
		status, body := post(t, hc, "/v1/open", "application/json", `{"email":"dr.a@clinic.example","user_id":"42"}`, h...)
		if status != 403 || !strings.Contains(body, "browser_refused") {
			t.Fatalf("%s: %d %s", h[0], status, body)
		}
	}
	if len(svc.opens) != 0 {
		t.Fatal("a browser request reached the service")
	}
}

func TestGetHasNoSideEffects(t *testing.T) {
	svc, _, hc := serve(t)
	resp, err := hc.Get("http://heidi-tray/v1/open?email=dr.a@clinic.example&user_id=42")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	// Refused for its unknown parameters, and it would be for its method.
	if (resp.StatusCode != 400 && resp.StatusCode != 405) || len(svc.opens) != 0 {
		t.Fatalf("GET /v1/open: %d", resp.StatusCode)
	}
	resp, err = hc.Get("http://heidi-tray/v1/open")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 405 {
		t.Fatalf("GET /v1/open without parameters: %d", resp.StatusCode)
	}
	for _, u := range []string{"/v1/notes?afterr=5", "/v1/status?x=1", "/v1/events?cursor=1"} {
		resp, err := hc.Get("http://heidi-tray" + u)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 400 || !strings.Contains(string(b), "unknown query parameter") {
			t.Errorf("%s: %d %s", u, resp.StatusCode, b)
		}
	}
}

func TestClientRoundTrip(t *testing.T) {
	_, ep, _ := serve(t)
	c := NewClient(ep.Path)
	ctx := context.Background()
	st, err := c.Status(ctx)
	if err != nil || st.State != "ready" {
		t.Fatal(st, err)
	}
	res, err := c.Open(ctx, request.Open{Clinician: request.Clinician{Email: "dr.a@clinic.example", UserID: "1", Region: "AU"}})
	if err != nil || res.Status != "opened" {
		t.Fatal(res, err)
	}
	n, err := c.OpenWaitNote(ctx, request.Open{Clinician: request.Clinician{Email: "dr.a@clinic.example", UserID: "1", Region: "AU"}}, 0)
	if err != nil || n.LaunchID != "L1" || n.Text != "hello" || n.Open.Status != "opened" {
		t.Fatal(n, err)
	}
	for _, bad := range []string{"/v1/open?wait=notes", "/v1/open?timeout=5", "/v1/open?wait=note&timeout=0", "/v1/open?wait=note&timeout=86401", "/v1/open?wait=note&timeout=1.5"} {
		var out any
		err := c.do(ctx, http.MethodPost, bad, request.Open{Clinician: request.Clinician{Email: "dr.a@clinic.example", UserID: "1", Region: "AU"}}, &out)
		if ae, ok := err.(*APIError); !ok || ae.Status != 400 || ae.Code != "invalid_request" {
			t.Errorf("%s: %v", bad, err)
		}
	}
	_, err = c.Open(ctx, request.Open{Clinician: request.Clinician{Email: "bad", UserID: "1"}})
	if ae, ok := err.(*APIError); !ok || ae.Status != 400 || ae.Code != "invalid_request" {
		t.Fatalf("bad request: %v", err)
	}
	got := 0
	ectx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	c.Events(ectx, func(ev wire.Event) bool { got++; return false })
	if got != 1 {
		t.Fatal("no event streamed")
	}
}

func TestSocketIsPrivate(t *testing.T) {
	_, ep, _ := serve(t)
	fi, err := os.Stat(ep.Path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("socket mode %v", fi.Mode().Perm())
	}
}

func TestSecondInstanceAndStaleSocket(t *testing.T) {
	dir := testrig.ShortTempDir(t)
	ep := Endpoint{Path: filepath.Join(dir, "ipc.sock"), lock: filepath.Join(dir, "instance.lock")}
	// A crashed tray's leftover socket file.
	l0, err := net.Listen("unix", ep.Path)
	if err != nil {
		t.Fatal(err)
	}
	l0.(*net.UnixListener).SetUnlinkOnClose(false)
	l0.Close()
	if _, err := os.Stat(ep.Path); err != nil {
		t.Fatal("setup: stale socket missing")
	}
	if _, err := Dial(context.Background(), ep.Path); !NotRunning(err) {
		t.Fatalf("dialing a stale socket: %v should mean not running", err)
	}
	l, release, err := ep.Listen()
	if err != nil {
		t.Fatalf("stale socket not recovered: %v", err)
	}
	defer release()
	if _, _, err := ep.Listen(); err != ErrAlreadyRunning {
		t.Fatalf("second listen: %v", err)
	}
	_ = l
}

// A process of another user is refused even if it can reach the socket.
func TestOtherUserRefused(t *testing.T) {
	if os.Getuid() != 0 {
		testrig.Missing(t, "root (to run a client as another uid)", "not root")
	}
	_, ep, _ := serve(t)
	// Let uid 65534 reach the socket, so the peer-credential check is what refuses it.
	os.Chmod(filepath.Dir(ep.Path), 0o755)
	os.Chmod(ep.Path, 0o666)
	bin := filepath.Join(testrig.ShortTempDir(t), "ipc.test")
	data, _ := os.ReadFile(os.Args[0])
	os.WriteFile(bin, data, 0o755)
	os.Chmod(filepath.Dir(bin), 0o755)
	run := func(uid uint32) string {
		cmd := exec.Command(bin, "-test.run=^$")
		cmd.Env = []string{"IPC_HELPER_DIAL=" + ep.Path}
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uid, Gid: uid}}
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("helper: %v %s", err, out)
		}
		return string(out)
	}
	if out := run(65534); !strings.Contains(out, "uid 65534 are refused") {
		t.Fatalf("another uid got: %s", out)
	}
	if out := run(0); !strings.Contains(out, "RESULT: <nil>") {
		t.Fatalf("our own uid was refused: %s", out)
	}
	// With the default 0600 socket another uid cannot even connect.
	os.Chmod(ep.Path, 0o600)
	if out := run(65534); !strings.Contains(out, "permission denied") {
		t.Fatalf("0600 socket reachable by another uid: %s", out)
	}
}

// docs/ipc.md's error table lists every code the tray can return, with the
// status the server uses and whether it is retryable, and nothing else.
func TestErrorTableInTheDocsIsComplete(t *testing.T) {
	doc, err := os.ReadFile("../../docs/ipc.md")
	if err != nil {
		t.Fatal(err)
	}
	_, table, ok := strings.Cut(string(doc), "<!-- error-codes")
	if !ok {
		t.Fatal("docs/ipc.md has no error table marker")
	}
	table, _, _ = strings.Cut(table, "\n\n")
	rows := map[string][2]string{}
	for _, line := range strings.Split(table, "\n") {
		cells := strings.Split(strings.Trim(line, "|"), "|")
		if len(cells) != 4 || !strings.Contains(cells[1], "`") || strings.TrimSpace(cells[0]) == "Status" {
			continue
		}
		rows[strings.Trim(strings.TrimSpace(cells[1]), "`")] = [2]string{strings.TrimSpace(cells[0]), strings.TrimSpace(cells[2])}
	}
	for _, code := range wire.Codes {
		row, ok := rows[code]
		if !ok {
			t.Errorf("docs/ipc.md does not list %q", code)
			continue
		}
		if row[0] != strconv.Itoa(statusFor(code)) {
			t.Errorf("%s: the docs say %s, the server answers %d", code, row[0], statusFor(code))
		}
		if want := map[bool]string{true: "yes", false: "no"}[wire.Retryable(code)]; row[1] != want {
			t.Errorf("%s: the docs say retryable %q, the code says %q", code, row[1], want)
		}
		delete(rows, code)
	}
	for code := range rows {
		t.Errorf("docs/ipc.md lists %q, which the tray never returns", code)
	}
}
