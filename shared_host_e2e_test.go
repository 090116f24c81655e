//go:build linux

package main

// The hostile neighbour on a shared host (a terminal server), as a real
// second OS user: it watches the process list, runs its own server on
// 127.0.0.1 that the clinician's browser visits, and takes the tray's port
// after a crash. Each test checks that nothing of the clinician's crossed
// and that the tray kept serving its own user.

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/heidi-tray/heidi-tray/launcher/testrig"
)

// neighbour runs a role as the other user; it reports on standard output.
func neighbour(role string) int {
	switch role {
	case "watch":
		// Poll every process's command line until stdin closes; print each
		// new one, and whether a file named in it could be read.
		stop := make(chan struct{})
		go func() { io.Copy(io.Discard, os.Stdin); close(stop) }()
		seen := map[string]bool{}
		for {
			select {
			case <-stop:
				return 0
			default:
			}
			dirs, _ := os.ReadDir("/proc")
			for _, d := range dirs {
				b, err := os.ReadFile("/proc/" + d.Name() + "/cmdline")
				if err != nil || len(b) == 0 {
					continue
				}
				line := strings.ReplaceAll(strings.TrimRight(string(b), "\x00"), "\x00", " ")
				if seen[line] {
					continue
				}
				seen[line] = true
				fmt.Println("CMD " + line)
				for _, f := range strings.Fields(line) {
					f = strings.TrimPrefix(f, "--app=")
					if p, ok := strings.CutPrefix(f, "file://"); ok {
						_, err := os.ReadFile(p)
						fmt.Printf("READ %s %v\n", p, err == nil)
					}
				}
			}
			time.Sleep(2 * time.Millisecond)
		}
	case "cookies":
		// A server on 127.0.0.1 that the clinician's browser visits: it
		// takes the cookies the browser sends and replays them to the tray.
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			fmt.Println("ERR", err)
			return 1
		}
		fmt.Println("PORT", ln.Addr().(*net.TCPAddr).Port)
		tray := os.Getenv("HT_TRAY")
		http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			cookie := r.Header.Get("Cookie")
			fmt.Printf("CAPTURED %q\n", cookie)
			for _, path := range []string{"/api/session", "/api/events"} {
				method := "POST"
				if path == "/api/events" {
					method = "GET"
				}
				req, _ := http.NewRequest(method, tray+path, strings.NewReader("{}"))
				req.Header.Set("Cookie", cookie)
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Origin", tray)
				c := &http.Client{Timeout: 3 * time.Second}
				resp, err := c.Do(req)
				if err != nil {
					fmt.Printf("REPLAY %s refused\n", path)
					continue
				}
				body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
				resp.Body.Close()
				fmt.Printf("REPLAY %s %d %q\n", path, resp.StatusCode, body)
			}
			fmt.Fprint(w, "<!doctype html><title>neighbour</title>hello")
		}))
	case "squat":
		// Take the tray's port once it is free, and tell any page that
		// reconnects to go elsewhere and show another patient.
		addr := os.Getenv("HT_PORT_ADDR")
		var ln net.Listener
		deadline := time.Now().Add(20 * time.Second)
		for {
			var err error
			if ln, err = net.Listen("tcp", addr); err == nil {
				break
			}
			if time.Now().After(deadline) {
				fmt.Println("ERR", err)
				return 1
			}
			time.Sleep(20 * time.Millisecond)
		}
		fmt.Println("SQUATTING")
		go func() { io.Copy(io.Discard, os.Stdin); ln.Close() }()
		http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Printf("REQUEST %s %s\n", r.Method, r.URL.Path)
			if r.URL.Path != "/api/events" {
				http.Error(w, "no", http.StatusNotFound)
				return
			}
			w.Header().Set("Content-Type", "text/event-stream")
			for _, ev := range []string{
				`{"type":"show","view":{"id":"EVIL","patient":{"id":"X-1","name":"EVIL PATIENT"}}}`,
				`{"type":"replace","url":"http://evil.example/phish"}`,
				`{"type":"replace","url":"/launch?code=squattercode"}`,
				`{"type":"hello","run_id":"squatter"}`,
				`{"type":"show","view":{"id":"EVIL2","patient":{"id":"X-2","name":"EVIL PATIENT"}}}`,
			} {
				fmt.Fprintf(w, "data: %s\n\n", ev)
			}
			w.(http.Flusher).Flush()
			<-r.Context().Done()
		}))
	}
	return 0
}

func neighbourCmd(t *testing.T, other *testrig.OtherUser, helper, role string, env ...string) *exec.Cmd {
	cmd := other.Command(helper)
	cmd.Env = append(cmd.Env, append([]string{"HT_NEIGHBOUR=" + role}, env...)...)
	return cmd
}

// lines collects a running neighbour's output.
type lines struct {
	ch  chan string
	all []string
}

func startNeighbour(t *testing.T, cmd *exec.Cmd) (*lines, io.WriteCloser) {
	t.Helper()
	stdin, _ := cmd.StdinPipe()
	out, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	l := &lines{ch: make(chan string, 4096)}
	go func() {
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			l.ch <- sc.Text()
		}
		close(l.ch)
	}()
	return l, stdin
}

// wait returns the first line with prefix, collecting all lines so far.
func (l *lines) wait(t *testing.T, prefix string) string {
	t.Helper()
	timeout := time.After(20 * time.Second)
	for {
		select {
		case s, ok := <-l.ch:
			if !ok {
				t.Fatalf("the neighbour ended without %q; it said %q", prefix, l.all)
			}
			l.all = append(l.all, s)
			if strings.HasPrefix(s, prefix) {
				return s
			}
		case <-timeout:
			t.Fatalf("the neighbour never said %q; it said %q", prefix, l.all)
		}
	}
}

// drain collects the rest after the neighbour was told to stop.
func (l *lines) drain() []string {
	for s := range l.ch {
		l.all = append(l.all, s)
	}
	return l.all
}

// The other user polls the process list through launches, a URL and the
// settings page: it sees the tray and the browser's redirect files, but no
// code, token, patient detail or page secret, and cannot read the files.
func TestNeighbourWatchingTheProcessList(t *testing.T) {
	other := testrig.NewOtherUser(t)
	helper := other.ShareTestBinary()
	w := newWorld(t)
	// A browser that lives a moment, as real ones do, so the poll sees it.
	slow := filepath.Join(w.dir, "slow-browser")
	os.WriteFile(slow, []byte("#!/bin/sh\nprintf '%s\\n' \"$@\" >> "+w.browserLog+"\nsleep 0.5\n"), 0o755)
	w.env = append(w.env, "HEIDI_TRAY_WIDGET_SCRIPT=/assets/sdk/heidi-sandbox.js", "HEIDI_TRAY_CLIPBOARD=false", "HEIDI_TRAY_BROWSER="+slow)
	w.setKey("AU")
	w.startTray()
	ctx := browser(t, w)
	watch, stop := startNeighbour(t, neighbourCmd(t, other, helper, "watch"))
	watch.wait(t, "CMD ") // polling

	before := len(w.browserURLs())
	req := `{"email":"dr.a@clinic.example","user_id":"42","patient":{"id":"P-WATCH-7f3a","name":"Watched Patient","dob":"1950-05-05"},"context":"allergic to penicillin"}`
	if r := w.cli(req, "open", "--json", "-"); r.code != 0 {
		t.Fatalf("open --json -: %+v", r)
	}
	w.waitBrowser(before + 1)
	navigateRedirect(t, ctx, w.browserArgs()[before])
	s := waitFor(t, ctx, "the widget", func(s sbx) bool { return s.Opened > 0 && s.TokenSha != "" })
	if r := w.cli("heidi-tray://open?email=dr.a%40clinic.example&user_id=42&patient_id=P-W2-7f3a&patient_name=Second%20Watched\n", "url", "-"); r.code != 0 {
		t.Fatalf("url -: %+v", r)
	}
	if r := w.cli("", "setup"); r.code != 0 {
		t.Fatalf("setup: %+v", r)
	}
	w.waitBrowser(before + 2)
	time.Sleep(600 * time.Millisecond) // let the poller see the last browser
	stop.Close()
	seen := watch.drain()

	pageSecret := get(t, ctx, chromedp.Evaluate[string](`sessionStorage.getItem("heidi-tray-page") || ""`))
	if pageSecret == "" {
		t.Fatal("the page has no secret in sessionStorage")
	}
	// Other processes on the host (a CI runner's shell, say) are in the list
	// too, so each pattern is specific to what this test handed the tray: a
	// launch code only counts as a URL parameter.
	forbidden := append(w.secrets(), "Watched Patient", "P-WATCH-7f3a", "Second%20Watched", "Second Watched", "P-W2-7f3a", "penicillin", "1950-05-05", pageSecret)
	launchCode := regexp.MustCompile(`[?&]code=`)
	sawTray, sawRedirect := false, false
	for _, l := range seen {
		for _, f := range forbidden {
			if strings.Contains(l, f) {
				t.Errorf("the other user saw %q in %q", f, l)
			}
		}
		if launchCode.MatchString(l) {
			t.Errorf("the other user saw a launch code in %q", l)
		}
		if strings.HasPrefix(l, "CMD "+binary+" run") {
			sawTray = true
		}
		if strings.HasPrefix(l, "READ ") {
			sawRedirect = true
			if strings.HasSuffix(l, " true") {
				t.Errorf("the other user read a redirect file: %s", l)
			}
		}
	}
	if !sawTray || !sawRedirect {
		t.Fatalf("the poll proves nothing: saw the tray %v, a redirect file %v, in %d lines", sawTray, sawRedirect, len(seen))
	}
	if st := sandboxState(t, ctx); st.TokenSha != s.TokenSha {
		t.Fatal("the page lost its session")
	}
}

// The clinician's browser visits the other user's server on 127.0.0.1,
// which so receives heidi-tray's cookies (cookies ignore ports) and replays
// them to the tray: the tray does not answer it, and keeps serving the page.
func TestNeighbourReplaysCookiesFromItsOwnServer(t *testing.T) {
	other := testrig.NewOtherUser(t)
	helper := other.ShareTestBinary()
	w, ctx := pageWorld(t)
	openPage(t, w, ctx, append(drA, patientArgs("P-1", "Jane Citizen", "1984-03-09")...)...)
	waitLive(t, w)
	origin := get(t, ctx, chromedp.Evaluate[string](`location.origin`))
	tokens := len(w.fake.IssuedTokens())

	srv, stop := startNeighbour(t, neighbourCmd(t, other, helper, "cookies", "HT_TRAY="+origin))
	port := strings.TrimPrefix(srv.wait(t, "PORT "), "PORT ")
	// A second tab of the clinician's browser opens the neighbour's page.
	tab, cancel := chromedp.NewContext(ctx)
	defer cancel()
	run(t, tab, chromedp.Navigate("http://127.0.0.1:"+port+"/"))
	captured := srv.wait(t, "CAPTURED ")
	if !strings.Contains(captured, "heidi_tray_session=") {
		t.Fatalf("the browser sent no heidi-tray cookie to the other port (%s): the test proves nothing", captured)
	}
	for range 2 {
		if r := srv.wait(t, "REPLAY "); !strings.HasSuffix(r, " refused") {
			t.Errorf("the tray answered the other user's replay: %s", r)
		}
	}
	stop.Close()
	if n := len(w.fake.IssuedTokens()); n != tokens {
		t.Fatalf("%d tokens were issued during the replay", n-tokens)
	}
	// This user's window still follows the EMR.
	if r := w.cli("", append(append([]string{"open", "--json"}, drA...), patientArgs("P-2", "John Smith", "1970-01-02")...)...); !strings.Contains(r.stdout, `"switched"`) {
		t.Fatalf("after the replay: %+v", r)
	}
	waitFor(t, ctx, "the switch", func(s sbx) bool { return s.Patient != nil && s.Patient.ID == "P-2" })
}

// The tray dies (kill -9); the other user takes its port. The open window
// reconnects to it, but follows none of its events (another patient, a
// redirect) and says it no longer follows the EMR. A new tray serves this
// user on another port.
func TestNeighbourSquatsThePortAfterACrash(t *testing.T) {
	other := testrig.NewOtherUser(t)
	helper := other.ShareTestBinary()
	w, ctx := pageWorld(t)
	openPage(t, w, ctx, append(drA, patientArgs("P-1", "Jane Citizen", "1984-03-09")...)...)
	waitLive(t, w)
	origin := get(t, ctx, chromedp.Evaluate[string](`location.origin`))

	squat, stop := startNeighbour(t, neighbourCmd(t, other, helper, "squat", "HT_PORT_ADDR="+strings.TrimPrefix(origin, "http://")))
	defer stop.Close()
	for _, c := range w.trays {
		if c.Process != nil {
			syscall.Kill(c.Process.Pid, syscall.SIGKILL)
		}
	}
	squat.wait(t, "SQUATTING")
	squat.wait(t, "REQUEST GET /api/events") // the window reconnected to the squatter
	waitPage(t, ctx, "the window to stop following", `window.__heidiTray && window.__heidiTray.following === false`)
	time.Sleep(300 * time.Millisecond)
	if loc := get(t, ctx, chromedp.Evaluate[string](`location.href`)); !strings.HasPrefix(loc, origin+"/") || strings.Contains(loc, "launch") {
		t.Fatalf("the window followed the squatter to %s", loc)
	}
	if s := sandboxState(t, ctx); s.Patient == nil || s.Patient.ID != "P-1" {
		t.Fatalf("the squatter changed the patient: %+v", s.Patient)
	}
	if got := text(t, ctx, "#patient-name"); strings.Contains(got, "EVIL") {
		t.Fatalf("banner: %q", got)
	}
	// A new tray for this user: the remembered port is taken, so another.
	w.startTray()
	before := len(w.browserURLs())
	if r := w.cli("", append([]string{"open"}, drA...)...); r.code != 0 {
		t.Fatalf("open after the crash: %+v", r)
	}
	if u := w.waitBrowser(before + 1)[before]; strings.HasPrefix(u, origin+"/") {
		t.Fatalf("the new tray used the squatted port: %s", u)
	}
}
