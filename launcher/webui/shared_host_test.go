package webui

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/heidi-tray/heidi-tray/launcher"
	"github.com/heidi-tray/heidi-tray/launcher/testrig"
)

// The test binary doubles as the other user's client. PEER_ATTACK=redeem
// tries a launch URL; PEER_ATTACK=hold opens as many connections as it can
// to ADDR and keeps them, printing how many were answered.
func TestMain(m *testing.M) {
	switch os.Getenv("PEER_ATTACK") {
	case "get":
		fmt.Print(rawGet(os.Getenv("PEER_ADDR"), os.Getenv("PEER_PATH")))
		os.Exit(0)
	case "hold":
		var held []net.Conn
		for range 200 {
			c, err := net.Dial("tcp", os.Getenv("PEER_ADDR"))
			if err != nil {
				break
			}
			held = append(held, c)
		}
		fmt.Println("holding", len(held))
		os.Stdin.Read(make([]byte, 1)) // until the test closes stdin
		os.Exit(0)
	}
	testrig.Main(m)
}

// rawGet sends one GET with a raw request line and returns the status line,
// or how the connection ended.
func rawGet(addr, path string) string {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return "dial error: " + err.Error()
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", path, addr)
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return "closed: " + err.Error()
	}
	return strings.TrimSpace(line)
}

func TestAbsoluteRequestLineIsRefused(t *testing.T) {
	e := newEnv(t)
	addr := strings.TrimPrefix(e.base, "http://")
	if got := rawGet(addr, "http://"+addr+"/"); !strings.Contains(got, " 421 ") {
		t.Fatalf("absolute-form request line: %q, want 421", got)
	}
	if got := rawGet(addr, "/"); !strings.Contains(got, " 200 ") {
		t.Fatalf("the same request in origin form: %q", got)
	}
}

func TestAssetsListNoDirectories(t *testing.T) {
	e := newEnv(t)
	for _, p := range []string{"/assets/", "/assets/web/", "/assets/web", "/assets/sdk/"} {
		resp, body := e.do(t, e.raw, "GET", p, "", nil)
		if resp.StatusCode != 404 || strings.Contains(body, "page.js") {
			t.Errorf("GET %s: %d %q, want 404 and no listing", p, resp.StatusCode, body)
		}
	}
	if resp, _ := e.do(t, e.raw, "GET", "/assets/web/page.js", "", nil); resp.StatusCode != 200 {
		t.Fatalf("a file under /assets/: %d", resp.StatusCode)
	}
}

// Another OS user holding a valid launch URL (as if read from a process
// list) gets no session: its connection is closed unanswered. And its
// connection flood does not stop the page server answering this user.
func TestAnotherOSUserGetsNothing(t *testing.T) {
	other := testrig.NewOtherUser(t)
	helper := other.ShareTestBinary()
	e := newEnv(t)
	addr := strings.TrimPrefix(e.base, "http://")
	code := strings.TrimPrefix(e.launch(), e.base)

	cmd := other.Command(helper)
	cmd.Env = append(cmd.Env, "PEER_ATTACK=get", "PEER_ADDR="+addr, "PEER_PATH="+code)
	if got := testrig.Output(t, cmd); !strings.HasPrefix(got, "closed:") {
		t.Fatalf("the other user (uid %d) redeeming a code got %q; want its connection closed", other.UID, got)
	}
	e.srv.mu.Lock()
	pages := len(e.srv.pages)
	e.srv.mu.Unlock()
	if e.back.tokens != 0 || pages != 0 {
		t.Fatal("the other user's request reached the server")
	}

	hold := other.Command(helper)
	hold.Env = append(hold.Env, "PEER_ATTACK=hold", "PEER_ADDR="+addr)
	stdin, _ := hold.StdinPipe()
	out, _ := hold.StdoutPipe()
	if err := hold.Start(); err != nil {
		t.Fatal(err)
	}
	line, _ := bufio.NewReader(out).ReadString('\n')
	if !strings.HasPrefix(line, "holding") {
		t.Fatalf("the flood: %q", line)
	}
	// With 200 of the other user's connections open (more than MaxConns),
	// this user redeems the very code the other user tried.
	resp, _ := e.do(t, e.hc, "GET", code, "", nil)
	if resp.StatusCode != 303 {
		t.Fatalf("this user's code during the flood: %d", resp.StatusCode)
	}
	e.pageSecret = strings.TrimPrefix(resp.Header.Get("Location"), "/#page=")
	if resp, body := e.do(t, e.hc, "POST", "/api/token", "{}", sameOrigin(e)); resp.StatusCode != 200 {
		t.Fatalf("this user during the flood: %d %s", resp.StatusCode, body)
	}
	stdin.Close()
	io.Copy(io.Discard, out)
	hold.Wait()
}

// This user's own flood is bounded: at MaxConns the server stops
// accepting, and a waiting request is served once connections go.
func TestConnectionCap(t *testing.T) {
	e := newEnv(t)
	addr := strings.TrimPrefix(e.base, "http://")
	var held []net.Conn
	for range MaxConns {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, c)
	}
	got := make(chan string, 1)
	go func() { got <- rawGet(addr, "/") }()
	select {
	case g := <-got:
		t.Fatalf("a request over the cap was answered at once: %q", g)
	case <-time.After(300 * time.Millisecond):
	}
	for _, c := range held {
		c.Close()
	}
	select {
	case g := <-got:
		if !strings.Contains(g, " 200 ") {
			t.Fatalf("after the flood: %q", g)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the waiting request was never served")
	}
}

// A replayed cookie without the page's secret (which lives in the page's
// port-scoped sessionStorage) opens nothing; with it, the page works.
func TestCookieAloneOpensNothing(t *testing.T) {
	e := newEnv(t)
	e.redeem(t)
	cookieOnly := map[string]string{"Content-Type": "application/json", "Origin": e.base, "Sec-Fetch-Site": "same-origin"}
	for _, path := range []string{"/api/session", "/api/token"} {
		if resp, _ := e.do(t, e.hc, "POST", path, `{}`, cookieOnly); resp.StatusCode != 401 {
			t.Errorf("%s with the cookie alone: %d", path, resp.StatusCode)
		}
	}
	wrong := sameOrigin(e)
	wrong[pageSecretHeader] = strings.Repeat("A", 43)
	if resp, _ := e.do(t, e.hc, "POST", "/api/session", `{}`, wrong); resp.StatusCode != 401 {
		t.Errorf("a wrong page secret: %d", resp.StatusCode)
	}
	if resp, _ := e.do(t, e.hc, "GET", "/api/events", "", nil); resp.StatusCode != 401 {
		t.Errorf("the event stream with the cookie alone: %d", resp.StatusCode)
	}
	if e.back.tokens != 0 {
		t.Fatal("a token was handed out")
	}
	if resp, body := e.do(t, e.hc, "POST", "/api/session", `{}`, sameOrigin(e)); resp.StatusCode != 200 {
		t.Fatalf("with the page secret: %d %s", resp.StatusCode, body)
	}
}

// A window that stays gone loses its session: its cookie and secret open
// nothing afterwards.
func TestGoneWindowSessionEnds(t *testing.T) {
	s, _ := attributionServer(t, Options{GoneAfter: 50 * time.Millisecond, SessionGoneAfter: 100 * time.Millisecond})
	w := openWindow(t, s, s.Present(launchFor("L1", "dr.a@clinic.example", "P1", "")).URL)
	if st, _ := w.call("/api/token", nil); st != 200 {
		t.Fatalf("token: %d", st)
	}
	w.cancel() // the window goes
	deadline := time.Now().Add(5 * time.Second)
	for {
		st, _ := w.call("/api/token", nil)
		if st == 401 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the gone window's session still answers: %d", st)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func askFor(id, patient string) launcher.Launch {
	l := launchFor(id, "dr.a@clinic.example", patient, "")
	l.Ask = true
	return l
}

// An unsigned URL's patient change waits for the person: Stay keeps the
// patient, Switch changes it; under a recording it asks once the note is in,
// never switching on its own.
func TestUnsignedSwitchAsksFirst(t *testing.T) {
	s, _ := attributionServer(t, Options{})
	w := openWindow(t, s, s.Present(launchFor("L1", "dr.a@clinic.example", "P1", "")).URL)
	if out := s.Present(askFor("L2", "P2")); out.Status != "confirm" {
		t.Fatalf("unsigned switch: %+v", out)
	}
	if ev := w.next("pending"); ev.Reason != "ask" || ev.PendingID != "L2" {
		t.Fatalf("question: %+v", ev)
	}
	if st, _ := w.call("/api/switch", map[string]string{"view_id": "L1", "pending_id": "L9"}); st != 409 {
		t.Fatalf("an answer to another question: %d", st)
	}
	if st, _ := w.call("/api/stay", map[string]string{"view_id": "L1", "pending_id": "L2"}); st != 200 {
		t.Fatalf("stay: %d", st)
	}
	w.next("pending_cleared")
	if ws := s.WindowState(); ws.LaunchID != "L1" || ws.Pending != nil {
		t.Fatalf("after Stay: %+v", ws)
	}
	// The same patient again is no change: no question.
	if out := s.Present(askFor("L3", "P1")); out.Status != "switched" {
		t.Fatalf("same patient: %+v", out)
	}
	w.next("show")
	s.Present(askFor("L4", "P4"))
	w.next("pending")
	if st, _ := w.call("/api/switch", map[string]string{"view_id": "L3", "pending_id": "L4"}); st != 200 {
		t.Fatalf("switch: %d", st)
	}
	if ev := w.next("show"); ev.View == nil || ev.View.ID != "L4" {
		t.Fatalf("after Switch: %+v", ev)
	}

	// During a recording: held, then asked (not applied) once the note is in.
	w.call("/api/recording", map[string]string{"view_id": "L4", "status": "RECORDING"})
	if out := s.Present(askFor("L5", "P5")); out.Status != "switch_pending" {
		t.Fatalf("unsigned switch during a recording: %+v", out)
	}
	if ev := w.next("pending"); ev.Reason != "recording" {
		t.Fatalf("%+v", ev)
	}
	w.call("/api/recording", map[string]string{"view_id": "L4", "status": "STOPPED"})
	if ev := w.next("pending"); ev.Reason != "note" {
		t.Fatalf("%+v", ev)
	}
	if st, _ := w.call("/api/switch", map[string]string{"view_id": "L4", "pending_id": "L5"}); st != 409 {
		t.Fatalf("switch before the note: %d", st)
	}
	w.call("/api/push", map[string]any{"view_id": "L4", "kind": "data", "payload": map[string]string{"notesData": "n"}})
	if ev := w.next("pending"); ev.Reason != "ask" {
		t.Fatalf("after the note: %+v", ev)
	}
	if ws := s.WindowState(); ws.LaunchID != "L4" {
		t.Fatalf("switched without asking: %+v", ws)
	}
}
