//go:build linux

package main

// End-to-end tests of the built binary: the real CLI, the real tray process,
// a real Secret Service, a real socket and a recording browser command, with
// the fake Heidi on loopback.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"html"
	"net"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/heidi-tray/heidi-tray/launcher/heidiapi/fakeheidi"
	"github.com/heidi-tray/heidi-tray/launcher/testrig"
)

const e2eKey = "hk_e2e_SECRET_KEY_7f3a9c"

var binary string

func TestMain(m *testing.M) {
	if role := os.Getenv("HT_NEIGHBOUR"); role != "" { // this binary, run as another OS user
		os.Exit(neighbour(role))
	}
	dir, err := os.MkdirTemp("", "htbin")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "heidi-tray")
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building heidi-tray: %v\n%s", err, out)
		os.Exit(1)
	}
	code := func() int { defer testrig.Cleanup(); return m.Run() }()
	os.RemoveAll(dir)
	os.Exit(code)
}

// world is one user's desktop: private XDG dirs, the test keychain, a
// recording browser and the fake Heidi.
type world struct {
	t          *testing.T
	dir        string
	env        []string
	fake       *fakeheidi.Server
	browserLog string
	trays      []*exec.Cmd
	exited     map[*exec.Cmd]chan struct{} // closed when the tray's one Wait returns
	// extraSecrets are more values the sweep must not find (launch secrets).
	extraSecrets []string
	redirects    sync.Map // redirect file URL → the page it leads to
}

func newWorld(t *testing.T) *world {
	t.Helper()
	bus := testrig.SecretService(t)
	w := &world{t: t, dir: testrig.ShortTempDir(t)}
	w.fake = fakeheidi.New(e2eKey)
	srv := httptest.NewServer(w.fake)
	t.Cleanup(srv.Close)
	w.browserLog = filepath.Join(w.dir, "browser.log")
	rec := filepath.Join(w.dir, "record-browser")
	os.WriteFile(rec, []byte("#!/bin/sh\nprintf '%s\\n' \"$@\" >> "+w.browserLog+"\n"), 0o755)
	for _, d := range []string{"home", "run", "config", "state", "cache", "data"} {
		os.MkdirAll(filepath.Join(w.dir, d), 0o700)
	}
	w.env = testrig.SetEnv(bus.Env(os.Environ()),
		"HOME="+filepath.Join(w.dir, "home"),
		"XDG_RUNTIME_DIR="+filepath.Join(w.dir, "run"),
		"XDG_CONFIG_HOME="+filepath.Join(w.dir, "config"),
		"XDG_STATE_HOME="+filepath.Join(w.dir, "state"),
		"XDG_CACHE_HOME="+filepath.Join(w.dir, "cache"),
		"HEIDI_TRAY_API_BASE="+srv.URL+fakeheidi.BasePath,
		"HEIDI_TRAY_BROWSER="+rec,
		"XDG_DATA_HOME="+filepath.Join(w.dir, "data"),
	)
	w.env = testrig.Unset(w.env, "DISPLAY", "WAYLAND_DISPLAY", "HEIDI_TRAY_REGION", "HEIDI_TRAY_CONFIG")
	// Every e2e test ends with a sweep of everything it left on disk (logs,
	// outbox, state, browser profile) for the key, tokens and launch secrets.
	t.Cleanup(func() { w.sweepFiles() })
	t.Cleanup(w.stopAll)
	return w
}

type result struct {
	code           int
	stdout, stderr string
}

func (w *world) cli(stdin string, args ...string) result {
	w.t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = w.env
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		w.t.Fatal(err)
	}
	return result{code, out.String(), errb.String()}
}

func (w *world) setKey(region string) {
	w.t.Helper()
	if r := w.cli(e2eKey+"\n", "key", "set", "--region", region); r.code != 0 {
		w.t.Fatalf("key set: %+v", r)
	}
}

// startTray runs 'heidi-tray run' and waits until it answers.
func (w *world) startTray(args ...string) *exec.Cmd {
	w.t.Helper()
	cmd := exec.Command(binary, append([]string{"run"}, args...)...)
	cmd.Env = w.env
	cmd.Stdout, _ = os.Create(filepath.Join(w.dir, fmt.Sprintf("tray%d.out", len(w.trays))))
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		w.t.Fatal(err)
	}
	w.own(cmd)
	w.waitRunning()
	return cmd
}

// own makes the world the only caller of cmd.Wait (two callers race).
func (w *world) own(cmd *exec.Cmd) {
	if w.exited == nil {
		w.exited = map[*exec.Cmd]chan struct{}{}
	}
	done := make(chan struct{})
	w.exited[cmd] = done
	w.trays = append(w.trays, cmd)
	go func() { cmd.Wait(); close(done) }()
}

// waitExit reports whether cmd exited within d.
func (w *world) waitExit(cmd *exec.Cmd, d time.Duration) bool {
	select {
	case <-w.exited[cmd]:
		return true
	case <-time.After(d):
		return false
	}
}

func (w *world) waitRunning() {
	w.t.Helper()
	for i := 0; i < 200; i++ {
		if w.cli("", "status").code == 0 {
			return
		}
		time.Sleep(25 * time.Millisecond)
	}
	w.t.Fatal("the tray never answered 'status'")
}

func (w *world) status() map[string]any {
	w.t.Helper()
	r := w.cli("", "status", "--json")
	var m map[string]any
	json.Unmarshal([]byte(r.stdout), &m)
	return m
}

// stopAll stops every tray this world started, including detached ones.
func (w *world) stopAll() {
	st := w.status()
	if st["running"] == true {
		w.cli("", "quit")
	}
	for _, c := range w.trays { // our children: reap them (a zombie still answers kill -0)
		if !w.waitExit(c, 5*time.Second) {
			c.Process.Kill()
			<-w.exited[c]
		}
	}
	if st["running"] == true { // a tray 'open' started detached is not our child
		pid := int(st["pid"].(float64))
		if !waitGone(pid, 5*time.Second) {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

func waitGone(pid int, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if syscall.Kill(pid, 0) != nil {
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return false
}

// browserArgs are the URLs the browser was started on: redirect files.
func (w *world) browserArgs() []string {
	data, _ := os.ReadFile(w.browserLog)
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	return out
}

var redirectRE = regexp.MustCompile(`content="0;url=([^"]+)"`)

// browserURLs are the pages the browser was sent to: each argument is a
// file:// URL of a private redirect file, read here. A launch code in the
// browser's own arguments, which every user can list, fails the test.
func (w *world) browserURLs() []string {
	var out []string
	for _, a := range w.browserArgs() {
		if strings.Contains(a, "code=") || !strings.HasPrefix(a, "file:///") {
			w.t.Errorf("the browser was started on %q, not a redirect file", a)
			out = append(out, a)
			continue
		}
		if u, ok := w.redirects.Load(a); ok {
			out = append(out, u.(string))
			continue
		}
		data, err := os.ReadFile(strings.TrimPrefix(a, "file://"))
		m := redirectRE.FindStringSubmatch(string(data))
		if err != nil || m == nil {
			w.t.Errorf("redirect file %s: %v %q", a, err, data)
			out = append(out, a)
			continue
		}
		u := html.UnescapeString(m[1])
		w.redirects.Store(a, u)
		out = append(out, u)
	}
	return out
}

func (w *world) waitBrowser(n int) []string {
	w.t.Helper()
	for i := 0; i < 200; i++ {
		if u := w.browserURLs(); len(u) >= n {
			return u
		}
		time.Sleep(25 * time.Millisecond)
	}
	w.t.Fatalf("the browser was opened %d times, want %d", len(w.browserURLs()), n)
	return nil
}

// secrets are every key and token the fake knows of, for leak sweeps.
func (w *world) secrets() []string {
	return append(append([]string{e2eKey}, w.extraSecrets...), w.fake.IssuedTokens()...)
}

// sweep fails if any secret appears in any file under the world's dirs, in
// the browser's arguments or in the tray's command line; it insists that
// tokens were issued, so it proves something.
func (w *world) sweep() {
	w.t.Helper()
	if len(w.fake.IssuedTokens()) == 0 {
		w.t.Fatal("sweep: no tokens were issued; the sweep would prove nothing")
	}
	w.sweepFiles()
}

func (w *world) sweepFiles() {
	w.t.Helper()
	secrets := w.secrets()
	filepath.Walk(w.dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil || fi.IsDir() || fi.Mode()&os.ModeSocket != 0 {
			return nil
		}
		data, _ := os.ReadFile(p)
		for _, s := range secrets {
			if bytes.Contains(data, []byte(s)) {
				w.t.Errorf("a secret leaked into %s", p)
			}
		}
		return nil
	})
	for _, c := range w.trays {
		if c.Process != nil {
			cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", c.Process.Pid))
			for _, s := range secrets {
				if bytes.Contains(cmdline, []byte(s)) {
					w.t.Errorf("a secret is in the tray's argv")
				}
			}
		}
	}
}

var launchURL = regexp.MustCompile(`^http://127\.0\.0\.1:\d+/launch\?code=[A-Za-z0-9_-]{43}$`)

func TestOpenEndToEnd(t *testing.T) {
	w := newWorld(t)
	w.setKey("AU")
	if r := w.cli("", "key", "status"); r.code != 0 || strings.TrimSpace(r.stdout) != "AU  ****3a9c" {
		t.Fatalf("key status should list AU masked to its last 4 characters: %+v", r)
	}
	w.startTray()
	args := []string{"open", "--email", "Dr.A@clinic.example", "--user-id", "emr-42", "--patient-id", "P1", "--patient-name", "Jane Citizen", "--patient-dob", "1984-03-09"}
	for i := 0; i < 2; i++ {
		r := w.cli("", args...)
		if r.code != 0 || !strings.Contains(r.stdout, "opening") {
			t.Fatalf("open %d: %+v", i, r)
		}
	}
	calls := w.fake.Calls()
	if len(calls) != 1 {
		t.Fatalf("%d JWT calls for two opens, want 1", len(calls))
	}
	c := calls[0]
	if c.APIKey != e2eKey || c.Email != "dr.a@clinic.example" || c.UserID != "emr-42" || c.Path != fakeheidi.Path || len(c.ExtraParams) != 0 {
		t.Fatalf("JWT call: %+v", c)
	}
	// The second open arrived while the first window was still loading
	// (this test's browser never loads it): it updates that window's launch
	// instead of opening a second window (docs/clinical-safety.md).
	time.Sleep(300 * time.Millisecond)
	urls := w.browserURLs()
	if len(urls) != 1 {
		t.Fatalf("browser opened %v, want one window for two quick opens", urls)
	}
	for _, u := range urls {
		if !launchURL.MatchString(u) {
			t.Fatalf("page URL %q is not a loopback one-time-code URL", u)
		}
	}
	// A second 'run' refuses clearly.
	if r := w.cli("", "run"); r.code != 1 || !strings.Contains(r.stderr, "already running") {
		t.Fatalf("second run: %+v", r)
	}
	st := w.status()
	if st["running"] != true || st["cached_tokens"].(float64) != 1 || st["state"] != "ready" {
		t.Fatalf("status: %v", st)
	}
	w.sweep()
	logData, _ := os.ReadFile(filepath.Join(w.dir, "cache", "heidi-tray", "logs", "heidi-tray.log"))
	if !bytes.Contains(logData, []byte(`"JWT fetched"`)) || bytes.Contains(logData, []byte("dr.a@clinic.example")) || bytes.Contains(logData, []byte("Jane")) {
		t.Fatalf("log should record the fetch with a masked email and no patient name:\n%s", logData)
	}
	// Quit removes the socket.
	sock := filepath.Join(w.dir, "run", "heidi-tray", "ipc.sock")
	if r := w.cli("", "quit"); r.code != 0 {
		t.Fatal(r)
	}
	if !w.waitExit(w.trays[0], 5*time.Second) {
		t.Fatal("quit did not stop the tray")
	}
	if _, err := os.Stat(sock); !os.IsNotExist(err) {
		t.Fatalf("socket left behind after quit: %v", err)
	}
	if r := w.cli("", "status"); r.code != 3 || !strings.Contains(r.stderr, "not running") {
		t.Fatalf("status with no tray: %+v", r)
	}
}

func TestOpenStartsTheTray(t *testing.T) {
	w := newWorld(t)
	w.setKey("AU")
	r := w.cli("", "open", "--email", "dr.b@clinic.example", "--user-id", "7")
	if r.code != 0 {
		t.Fatalf("open with no tray: %+v", r)
	}
	if urls := w.waitBrowser(1); !launchURL.MatchString(urls[0]) {
		t.Fatalf("browser got %v", urls)
	}
	if st := w.status(); st["running"] != true {
		t.Fatalf("no tray running after open: %v", st)
	}
}

func TestStaleSocketAfterCrash(t *testing.T) {
	w := newWorld(t)
	w.setKey("AU")
	tray := w.startTray()
	tray.Process.Signal(syscall.SIGKILL)
	w.waitExit(tray, 5*time.Second)
	if _, err := os.Stat(filepath.Join(w.dir, "run", "heidi-tray", "ipc.sock")); err != nil {
		t.Fatalf("setup: the crash should leave the socket: %v", err)
	}
	if r := w.cli("", "open", "--email", "dr.b@clinic.example", "--user-id", "7"); r.code != 0 {
		t.Fatalf("open after a crash: %+v", r)
	}
	w.waitBrowser(1)
}

func TestClearErrors(t *testing.T) {
	w := newWorld(t)
	w.startTray()
	cases := []struct {
		args    []string
		code    int
		mention string
	}{
		{[]string{"open", "--email", "dr.c@clinic.example", "--user-id", "1", "--region", "CA"}, 1, "no Heidi API key for region CA"},
		{[]string{"open", "--email", "not-an-email", "--user-id", "1"}, 2, "email"},
		{[]string{"open", "--email", "a@b.example"}, 2, "user_id: is required"},
		{[]string{"open", "--email", "a@b.example", "--user-id", "1", "--patient-id", "P"}, 2, "go together"},
		{[]string{"open", "--email", "a@b.example", "--user-id", "1", "stray"}, 2, "unexpected argument"},
		{[]string{"open", "--bogus"}, 2, "flag provided but not defined"},
		{[]string{"key", "set", "--region", "AU", e2eKey}, 2, "unexpected argument"},
		{[]string{"key", "set"}, 2, "--region is required"},
		{[]string{"frobnicate"}, 2, "unknown command"},
	}
	for _, tc := range cases {
		r := w.cli("", tc.args...)
		if r.code != tc.code || !strings.Contains(r.stderr, tc.mention) || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 || strings.Contains(r.stderr, "goroutine") {
			t.Errorf("%v: code %d, stderr %q; want code %d, one line mentioning %q", tc.args, r.code, r.stderr, tc.code, tc.mention)
		}
	}
	if len(w.fake.Calls()) != 0 {
		t.Fatal("a failed open reached Heidi")
	}
	// A key rejected by Heidi names the region and the fix.
	w.fake.SetKeys("another-key")
	w.setKey("AU")
	r := w.cli("", "open", "--email", "dr.c@clinic.example", "--user-id", "1")
	if r.code != 1 || !strings.Contains(r.stderr, "rejected the AU API key") || strings.Contains(r.stderr, e2eKey) {
		t.Fatalf("rejected key: %+v", r)
	}
	if st := w.status(); st["message"] != "API key rejected for AU" {
		t.Fatalf("tray state after a rejected key: %v", st)
	}
}

func TestKeyFromStdinOnly(t *testing.T) {
	w := newWorld(t)
	if r := w.cli("", "key", "set", "--region", "EU"); r.code != 2 || !strings.Contains(r.stderr, "nothing on standard input") {
		t.Fatalf("empty stdin: %+v", r)
	}
	if r := w.cli("has space\n", "key", "set", "--region", "EU"); r.code != 2 || !strings.Contains(r.stderr, "not printable ASCII") {
		t.Fatalf("bad key: %+v", r)
	}
	if r := w.cli(e2eKey+"\r\n", "key", "set", "--region", "eu"); r.code != 0 || strings.Contains(r.stdout, e2eKey) {
		t.Fatalf("set: %+v", r)
	}
	if r := w.cli("", "key", "delete", "--region", "EU"); r.code != 0 {
		t.Fatalf("delete: %+v", r)
	}
	if r := w.cli("", "key", "delete", "--region", "EU"); r.code != 1 || !strings.Contains(r.stderr, "no API key for region EU") {
		t.Fatalf("delete again: %+v", r)
	}
}

func writeFile(t *testing.T, path, body string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestTwoTraysStartingAtOnce(t *testing.T) {
	w := newWorld(t)
	w.setKey("AU")
	var cmds []*exec.Cmd
	for i := 0; i < 2; i++ {
		cmd := exec.Command(binary, "run")
		cmd.Env = w.env
		out, _ := os.Create(filepath.Join(w.dir, fmt.Sprintf("race%d.out", i)))
		cmd.Stdout, cmd.Stderr = out, out
		cmds = append(cmds, cmd)
	}
	for _, c := range cmds {
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
	}
	// Exactly one exits, with the clear message; the other serves. (These
	// goroutines own Wait; stopAll only asks the winner to quit.)
	exited := make(chan int, 2)
	for i, c := range cmds {
		go func() { c.Wait(); exited <- i }()
	}
	t.Cleanup(func() {
		w.cli("", "quit")
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			for _, c := range cmds {
				c.Process.Kill()
			}
		}
	})
	var loser int
	select {
	case loser = <-exited:
	case <-time.After(10 * time.Second):
		t.Fatal("neither tray gave way")
	}
	out, _ := os.ReadFile(filepath.Join(w.dir, fmt.Sprintf("race%d.out", loser)))
	if cmds[loser].ProcessState.ExitCode() != 1 || !strings.Contains(string(out), "already running") {
		t.Fatalf("loser: code %d, %q", cmds[loser].ProcessState.ExitCode(), out)
	}
	w.waitRunning()
	if r := w.cli("", "open", "--email", "dr.a@clinic.example", "--user-id", "1"); r.code != 0 {
		t.Fatal(r)
	}
}

func TestConfiguredPortTaken(t *testing.T) {
	w := newWorld(t)
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	port := busy.Addr().(*net.TCPAddr).Port
	w.env = append(w.env, fmt.Sprintf("HEIDI_TRAY_PORT=%d", port))
	r := w.cli("", "run")
	if r.code != 1 || !strings.Contains(r.stderr, fmt.Sprintf("the configured port %d is not available", port)) || !strings.Contains(r.stderr, "port setting") {
		t.Fatalf("%+v", r)
	}
}

func TestBrowserCommandMissing(t *testing.T) {
	w := newWorld(t)
	w.env = append(w.env, "HEIDI_TRAY_BROWSER=/nonexistent/browser --flag")
	w.setKey("AU")
	w.startTray()
	r := w.cli("", "open", "--email", "dr.a@clinic.example", "--user-id", "1")
	if r.code != 1 || !strings.Contains(r.stderr, "check the browser setting") {
		t.Fatalf("%+v", r)
	}
	if st := w.status(); st["message"] != "Browser could not be opened" {
		t.Fatalf("state %v", st["message"])
	}
}

func TestNoKeychainForOpen(t *testing.T) {
	w := newWorld(t)
	w.env = testrig.Unset(w.env, "DBUS_SESSION_BUS_ADDRESS")
	w.startTray()
	r := w.cli("", "open", "--email", "dr.a@clinic.example", "--user-id", "1")
	if r.code != 1 || !strings.Contains(r.stderr, "keychain is not available") || !strings.Contains(r.stderr, "no D-Bus session bus") {
		t.Fatalf("%+v", r)
	}
}
