package webui

// Attribution by construction, at the page server's API over real sockets:
// every record is filed under the view the page names, switches wait for a
// recording's note, a window that goes away stops counting as recording.
// (The same rules in real Chromium: clinical_e2e_test.go at the top level.)

import (
	"bufio"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heidi-tray/heidi-tray/launcher"
	"github.com/heidi-tray/heidi-tray/launcher/heidiapi"
	"github.com/heidi-tray/heidi-tray/launcher/request"
)

// filing records what the core was asked to file, as it was asked.
type filing struct {
	unsupported
	mu        sync.Mutex
	pushes    []launcher.Launch
	sessions  map[string]string // session id -> patient id it was stored against
	recording int               // RecordingChanged calls
	left      []string          // "old>by"
	srv       *Server
}

func (f *filing) Token(context.Context, request.Clinician) (heidiapi.Token, error) {
	return heidiapi.Token{JWT: heidiapi.NewJWT("jwt"), Expires: time.Now().Add(time.Hour), Lifetime: time.Hour}, nil
}
func (f *filing) RefreshToken(ctx context.Context, c request.Clinician, _ heidiapi.JWT) (heidiapi.Token, error) {
	return f.Token(ctx, c)
}
func (f *filing) PushNote(_ context.Context, l launcher.Launch, _ string, _ []byte) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pushes = append(f.pushes, l)
	return "saved", nil
}
func (f *filing) SessionStarted(l launcher.Launch, sid string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	pid := ""
	if l.Req.Patient != nil {
		pid = l.Req.Patient.ID
	}
	f.sessions[sid] = pid
}
func (f *filing) RecordingChanged() { f.mu.Lock(); f.recording++; f.mu.Unlock() }
func (f *filing) ViewLeft(old, by string) {
	f.left = append(f.left, old+">"+by) // called with the server's lock held
}
func (f *filing) WindowChanged() {}

type win struct {
	secret  string // the page secret
	t       *testing.T
	srv     *Server
	hc      *http.Client
	events  chan event
	cancel  context.CancelFunc
	session map[string]any // what /api/session answered when the page loaded
}

func attributionServer(t *testing.T, opt Options) (*Server, *filing) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &filing{sessions: map[string]string{}}
	opt.WidgetScript = SandboxWidget
	s := New(l, f, opt)
	f.srv = s
	go s.Serve(l)
	t.Cleanup(func() { s.Shutdown(context.Background()) })
	return s, f
}

func launchFor(id, email, patient, encounter string) launcher.Launch {
	l := launcher.Launch{ID: id, Req: request.Open{Clinician: request.Clinician{Email: email, UserID: "1", Region: "AU"}, EncounterID: encounter}}
	if patient != "" {
		l.Req.Patient = &request.Patient{ID: patient, Name: "Name of " + patient, DOB: "1980-01-01"}
	}
	return l
}

// openWindow redeems a launch URL like a browser and connects its event stream.
func openWindow(t *testing.T, s *Server, launchURL string) *win {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	w := &win{t: t, srv: s, hc: &http.Client{Jar: jar}, events: make(chan event, 64)}
	u, _ := url.Parse(launchURL)
	resp, err := w.hc.Get(s.Origin() + u.RequestURI())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	w.secret = resp.Request.URL.Fragment[len("page="):] // the redirect's #page=
	w.load()
	return w
}

// load is what the page does when it loads (or reloads): its session, then
// its event stream.
func (w *win) load() {
	w.t.Helper()
	if w.cancel != nil {
		w.cancel() // a reload: the old document's stream goes first
	}
	st, out := w.call("/api/session", nil)
	if st != 200 {
		w.t.Fatalf("session: %d %v", st, out)
	}
	w.session = out
	w.connect()
}

func (w *win) connect() {
	ctx, cancel := context.WithCancel(context.Background())
	w.cancel = cancel
	req, _ := http.NewRequestWithContext(ctx, "GET", w.srv.Origin()+"/api/events?page="+w.secret, nil)
	resp, err := w.hc.Do(req)
	if err != nil || resp.StatusCode != 200 {
		w.t.Fatalf("event stream: %v %v", resp, err)
	}
	ready := make(chan struct{})
	go func() {
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		first := true
		for sc.Scan() {
			data, ok := strings.CutPrefix(sc.Text(), "data: ")
			if !ok {
				continue
			}
			var ev event
			json.Unmarshal([]byte(data), &ev)
			if first {
				first = false
				close(ready)
				continue // hello
			}
			w.events <- ev
		}
	}()
	<-ready
	w.t.Cleanup(cancel)
}

func (w *win) call(path string, body any) (int, map[string]any) {
	w.t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", w.srv.Origin()+path, strings.NewReader(string(b)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", w.srv.Origin())
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	req.Header.Set(pageSecretHeader, w.secret)
	resp, err := w.hc.Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func (w *win) next(want string) event {
	w.t.Helper()
	for {
		select {
		case ev := <-w.events:
			if ev.Type == "heartbeat" {
				continue
			}
			if ev.Type != want {
				w.t.Fatalf("event %+v, want %s", ev, want)
			}
			return ev
		case <-time.After(3 * time.Second):
			w.t.Fatalf("no %s event", want)
		}
	}
}

func (w *win) quiet() {
	w.t.Helper()
	select {
	case ev := <-w.events:
		w.t.Fatalf("unexpected event %+v", ev)
	case <-time.After(100 * time.Millisecond):
	}
}

func TestRecordsAreFiledUnderTheViewTheyNameNeverTheCurrentOne(t *testing.T) {
	s, f := attributionServer(t, Options{})
	w := openWindow(t, s, s.Present(launchFor("L1", "dr.a@x.example", "P1", "E1")).URL)
	if out := s.Present(launchFor("L2", "dr.a@x.example", "P2", "E2")); out.Status != "switched" {
		t.Fatalf("switch: %+v", out)
	}
	if ev := w.next("show"); ev.View.ID != "L2" || ev.View.Patient.ID != "P2" || ev.View.EncounterID != "E2" || ev.View.HeidiSessionID != "" {
		t.Fatalf("show %+v", ev.View)
	}
	// A late onSessionStarted for L1 arrives after the switch: it is stored
	// against P1, and a push from L1 is filed under P1/E1 with that session.
	if st, out := w.call("/api/session-started", map[string]string{"view_id": "L1", "session_id": "S1"}); st != 200 {
		t.Fatal(st, out)
	}
	w.call("/api/session-started", map[string]string{"view_id": "L2", "session_id": "S2"})
	w.call("/api/push", map[string]any{"view_id": "L1", "kind": "data", "payload": map[string]string{"notesData": "n"}})
	w.call("/api/push", map[string]any{"view_id": "L2", "kind": "data", "payload": map[string]string{"notesData": "n"}})
	if f.sessions["S1"] != "P1" || f.sessions["S2"] != "P2" {
		t.Fatalf("sessions stored %v", f.sessions)
	}
	if len(f.pushes) != 2 || f.pushes[0].Req.Patient.ID != "P1" || f.pushes[0].Req.EncounterID != "E1" || f.pushes[0].HeidiSessionID != "S1" ||
		f.pushes[1].Req.Patient.ID != "P2" || f.pushes[1].HeidiSessionID != "S2" {
		t.Fatalf("pushes %+v", f.pushes)
	}
	// A view this window was never put in is refused, and files nothing.
	for path, body := range map[string]map[string]any{
		"/api/push":            {"view_id": "L9", "kind": "data", "payload": map[string]string{"notesData": "n"}},
		"/api/session-started": {"view_id": "L9", "session_id": "S9"},
		"/api/recording":       {"view_id": "L9", "status": "RECORDING"},
		"/api/discard":         {"view_id": "L9"},
	} {
		st, out := w.call(path, body)
		if st != http.StatusConflict || out["error"].(map[string]any)["code"] != "unknown_view" {
			t.Errorf("%s with an unknown view: %d %v", path, st, out)
		}
	}
	if len(f.pushes) != 2 || f.sessions["S9"] != "" {
		t.Fatal("an unknown view filed something")
	}
}

func TestASwitchWaitsForTheRecordingsNote(t *testing.T) {
	for _, how := range []string{"push", "discard"} {
		t.Run(how, func(t *testing.T) {
			s, f := attributionServer(t, Options{})
			w := openWindow(t, s, s.Present(launchFor("L1", "dr.a@x.example", "P1", "E1")).URL)
			w.call("/api/recording", map[string]string{"view_id": "L1", "status": "RECORDING"})
			if out := s.Present(launchFor("L2", "dr.a@x.example", "P2", "E2")); out.Status != "switch_pending" {
				t.Fatalf("switch during a recording: %+v", out)
			}
			if ev := w.next("pending"); ev.PendingID != "L2" || ev.Reason != "recording" {
				t.Fatalf("pending %+v", ev)
			}
			// Stopping is not enough: Heidi writes the note after the stop.
			w.call("/api/recording", map[string]string{"view_id": "L1", "status": "STOPPED"})
			if ev := w.next("pending"); ev.Reason != "note" {
				t.Fatalf("after the stop %+v", ev)
			}
			w.quiet()
			if ws := s.WindowState(); ws.LaunchID != "L1" || !ws.AwaitingNote || ws.Pending == nil || ws.Pending.LaunchID != "L2" {
				t.Fatalf("window %+v", ws)
			}
			// A discard while recording is refused.
			if how == "push" {
				w.call("/api/push", map[string]any{"view_id": "L1", "kind": "data", "payload": map[string]string{"notesData": "n"}})
				if len(f.pushes) != 1 || f.pushes[0].Req.Patient.ID != "P1" {
					t.Fatalf("the recording's note was filed as %+v", f.pushes)
				}
			} else {
				w.call("/api/discard", map[string]string{"view_id": "L1"})
			}
			if ev := w.next("show"); ev.View.ID != "L2" || ev.View.Patient.ID != "P2" || ev.View.EncounterID != "E2" {
				t.Fatalf("the held switch applied %+v", ev.View)
			}
			// A later switch, with nothing outstanding, applies at once.
			s.Present(launchFor("L3", "dr.a@x.example", "P3", ""))
			w.next("show")
		})
	}
}

func TestAHeldReplaceMintsItsCodeWhenApplied(t *testing.T) {
	s, f := attributionServer(t, Options{})
	w := openWindow(t, s, s.Present(launchFor("L1", "dr.a@x.example", "P1", "")).URL)
	w.call("/api/recording", map[string]string{"view_id": "L1", "status": "RECORDING"})
	if out := s.Present(launchFor("L2", "dr.b@x.example", "P2", "")); out.Status != "switch_pending" || out.URL != "" {
		t.Fatalf("replace during a recording: %+v", out)
	}
	s.mu.Lock()
	codes := len(s.codes)
	s.mu.Unlock()
	if codes != 0 {
		t.Fatalf("%d codes exist for a replacement not yet applied", codes)
	}
	if ev := w.next("pending"); ev.Clinician != "dr.b@x.example" {
		t.Fatalf("pending %+v", ev)
	}
	w.call("/api/recording", map[string]string{"view_id": "L1", "status": "STOPPED"})
	w.next("pending")
	w.call("/api/push", map[string]any{"view_id": "L1", "kind": "data", "payload": map[string]string{"notesData": "n"}})
	if len(f.pushes) != 1 || f.pushes[0].Req.Email != "dr.a@x.example" {
		t.Fatalf("the first clinician's note: %+v", f.pushes)
	}
	ev := w.next("replace")
	if !strings.HasPrefix(ev.URL, "/launch?code=") {
		t.Fatalf("replace %+v", ev)
	}
	// The replacement window is dr.b's, from a fresh code.
	b := openWindow(t, s, s.Origin()+ev.URL)
	if b.session["clinician"].(map[string]any)["email"] != "dr.b@x.example" {
		t.Fatalf("replacement session %v", b.session)
	}
}

func TestOneWindowFollowsTheEMR(t *testing.T) {
	s, _ := attributionServer(t, Options{})
	// Opens before any window loaded go to the window that is loading.
	first := s.Present(launchFor("L1", "dr.a@x.example", "P1", ""))
	if out := s.Present(launchFor("L2", "dr.a@x.example", "P2", "")); out.Status != "opened" || out.URL != "" {
		t.Fatalf("second open while loading: %+v", out)
	}
	a := openWindow(t, s, first.URL)
	if a.session["view"].(map[string]any)["id"] != "L2" {
		t.Fatalf("the loading window shows %v, want the latest launch", a.session["view"])
	}
	// The tray's Open Heidi asks for a new window: the loading one's link dies.
	pending := s.Present(launchFor("L3", "dr.a@x.example", "P3", ""))
	if pending.Status != "switched" {
		t.Fatalf("with a live window: %+v", pending)
	}
	a.next("show")
	// A second window (its code made while the first was offline) takes
	// over; the first is told it no longer follows the EMR.
	a.cancel()
	time.Sleep(50 * time.Millisecond)
	second := s.Present(launchFor("L4", "dr.a@x.example", "P4", ""))
	if second.URL == "" {
		t.Fatalf("no live window, no loading one: %+v", second)
	}
	b := openWindow(t, s, second.URL)
	a.connect()
	if ev := a.next("superseded"); ev.Type != "superseded" {
		t.Fatal(ev)
	}
	s.Present(launchFor("L5", "dr.a@x.example", "P5", ""))
	if ev := b.next("show"); ev.View.ID != "L5" {
		t.Fatalf("the new window got %+v", ev)
	}
	a.quiet()
}

func TestReloadAndClosedWindowEndTheRecording(t *testing.T) {
	s, f := attributionServer(t, Options{GoneAfter: 100 * time.Millisecond})
	w := openWindow(t, s, s.Present(launchFor("L1", "dr.a@x.example", "P1", "")).URL)
	w.call("/api/recording", map[string]string{"view_id": "L1", "status": "RECORDING"})
	if !s.Recording() {
		t.Fatal("not recording")
	}
	// A reload: the page asks for its session again.
	w.load()
	if w.session["awaiting_note"] != true {
		t.Fatalf("after a reload mid-recording: %v", w.session)
	}
	if s.Recording() {
		t.Fatal("a reload left the tray believing a recording runs")
	}
	// The next switch waits for the interrupted recording's note, with a way on.
	s.Present(launchFor("L2", "dr.a@x.example", "P2", ""))
	w.next("pending")
	w.call("/api/discard", map[string]string{"view_id": "L1"})
	w.next("show")
	// A window closed mid-recording stops counting once it is gone.
	w.call("/api/recording", map[string]string{"view_id": "L2", "status": "RECORDING"})
	w.cancel()
	deadline := time.Now().Add(3 * time.Second)
	for s.Recording() && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if s.Recording() {
		t.Fatal("a closed window still counts as recording")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.recording < 3 {
		t.Fatalf("the core heard of %d recording changes", f.recording)
	}
}

func TestNoPatientMeansNoPatient(t *testing.T) {
	s, f := attributionServer(t, Options{})
	w := openWindow(t, s, s.Present(launchFor("L1", "dr.a@x.example", "P1", "E1")).URL)
	w.call("/api/session-started", map[string]string{"view_id": "L1", "session_id": "S1"})
	s.Present(launchFor("L2", "dr.a@x.example", "", ""))
	ev := w.next("show")
	if ev.View.Patient != nil || ev.View.HeidiSessionID != "" {
		t.Fatalf("an open without a patient showed %+v", ev.View)
	}
	raw, _ := json.Marshal(ev.View)
	if !strings.Contains(string(raw), `"patient":null`) {
		t.Fatalf("the page is not told the patient is gone: %s", raw)
	}
	w.call("/api/push", map[string]any{"view_id": "L2", "kind": "data", "payload": map[string]string{"notesData": "n"}})
	if p := f.pushes[0]; p.Req.Patient != nil || p.HeidiSessionID != "" {
		t.Fatalf("a push with no patient was filed as %+v", p)
	}
}

// A held switch that never applies tells its waiters so: a newer launch
// replaces it, and a logout ends it.
func TestDroppedHeldSwitchesAreReported(t *testing.T) {
	s, f := attributionServer(t, Options{})
	w := openWindow(t, s, s.Present(launchFor("L1", "dr.a@x.example", "P1", "")).URL)
	w.call("/api/recording", map[string]string{"view_id": "L1", "status": "RECORDING"})
	s.Present(launchFor("L2", "dr.a@x.example", "P2", ""))
	s.Present(launchFor("L3", "dr.a@x.example", "P3", ""))
	s.Logout()
	s.mu.Lock()
	left := strings.Join(f.left, " ")
	s.mu.Unlock()
	for _, want := range []string{"L2>L3", "L3>", "L1>"} {
		if !strings.Contains(" "+left+" ", " "+want+" ") {
			t.Errorf("ViewLeft calls %q lack %q", left, want)
		}
	}
}

// The review's races, at the API. A switch is the page's next view until it
// says it shows it; a recording (or its stop) in the view it still shows
// turns the switch into a held one.
func TestASwitchThePageHasNotShownYetIsHeldByARecording(t *testing.T) {
	s, f := attributionServer(t, Options{})
	w := openWindow(t, s, s.Present(launchFor("L1", "dr.a@x.example", "P1", "E1")).URL)
	if out := s.Present(launchFor("L2", "dr.a@x.example", "P2", "E2")); out.Status != "switched" {
		t.Fatalf("%+v", out)
	}
	w.next("show")
	// Before the page shows L2, the clinician starts recording on what it
	// still shows: the switch waits, and the recording is L1's.
	w.call("/api/recording", map[string]string{"view_id": "L1", "status": "RECORDING"})
	if ev := w.next("pending"); ev.PendingID != "L2" || ev.Reason != "recording" {
		t.Fatalf("%+v", ev)
	}
	if ws := s.WindowState(); ws.LaunchID != "L1" || ws.Pending == nil || ws.Pending.LaunchID != "L2" || !ws.Recording {
		t.Fatalf("window %+v", ws)
	}
	// A late "shown" for L2 (the page had queued it) changes nothing.
	w.call("/api/shown", map[string]string{"view_id": "L2"})
	if ws := s.WindowState(); ws.LaunchID != "L1" {
		t.Fatalf("a stale shown moved the window to %s", ws.LaunchID)
	}
	w.call("/api/recording", map[string]string{"view_id": "L1", "status": "STOPPED"})
	w.next("pending")
	w.call("/api/push", map[string]any{"view_id": "L1", "kind": "data", "payload": map[string]string{"notesData": "n"}})
	if len(f.pushes) != 1 || f.pushes[0].ID != "L1" {
		t.Fatalf("filed as %+v", f.pushes)
	}
	if ev := w.next("show"); ev.View.ID != "L2" {
		t.Fatalf("%+v", ev)
	}
}

func TestASecondTabIsRefusedAReloadIsNot(t *testing.T) {
	s, _ := attributionServer(t, Options{})
	w := openWindow(t, s, s.Present(launchFor("L1", "dr.a@x.example", "P1", "")).URL)
	w.call("/api/recording", map[string]string{"view_id": "L1", "status": "RECORDING"})
	// Another tab with the same cookie, while the first still streams.
	if st, out := w.call("/api/session", nil); st != http.StatusConflict || out["error"].(map[string]any)["code"] != "open_elsewhere" {
		t.Fatalf("a second tab: %d %v", st, out)
	}
	if !s.Recording() {
		t.Fatal("a second tab ended the first tab's recording")
	}
	w.load() // a reload: its stream closes first
	if s.Recording() || w.session["awaiting_note"] != true {
		t.Fatalf("after a reload: recording %v, %v", s.Recording(), w.session)
	}
}

func TestAPushIsFiledByTheHeidiSessionItNames(t *testing.T) {
	s, f := attributionServer(t, Options{})
	w := openWindow(t, s, s.Present(launchFor("L1", "dr.a@x.example", "P1", "E1")).URL)
	w.call("/api/session-started", map[string]string{"view_id": "L1", "session_id": "S1"})
	s.Present(launchFor("L2", "dr.a@x.example", "P2", "E2"))
	w.next("show")
	w.call("/api/shown", map[string]string{"view_id": "L2"})
	w.call("/api/session-started", map[string]string{"view_id": "L2", "session_id": "S2"})
	// Heidi's push for S1 arrives after the page moved to L2.
	w.call("/api/push", map[string]any{"view_id": "L2", "kind": "data", "payload": map[string]string{"notesData": "late", "sessionId": "S1"}})
	if len(f.pushes) != 1 || f.pushes[0].ID != "L1" || f.pushes[0].Req.Patient.ID != "P1" || f.pushes[0].HeidiSessionID != "S1" {
		t.Fatalf("a late push was filed as %+v", f.pushes)
	}
}

func TestAnOlderLinkLoadedLastDoesNotTakeOver(t *testing.T) {
	s, f := attributionServer(t, Options{})
	older := s.Present(launchFor("L1", "dr.a@x.example", "P1", ""))
	s.mu.Lock()
	for _, pc := range s.codes {
		pc.issued = pc.issued.Add(-time.Minute) // no longer "loading": the next open gets its own link
		pc.expires = pc.expires.Add(time.Hour)
	}
	s.mu.Unlock()
	newer := s.Present(launchFor("L2", "dr.a@x.example", "P2", ""))
	if newer.URL == "" {
		t.Fatal("set-up: the second open reused the first link")
	}
	b := openWindow(t, s, newer.URL)
	a := openWindow(t, s, older.URL)
	if ev := a.next("superseded"); ev.Type != "superseded" {
		t.Fatal(ev)
	}
	b.quiet()
	if ws := s.WindowState(); ws.LaunchID != "L2" {
		t.Fatalf("the window following the EMR shows %s", ws.LaunchID)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if !strings.Contains(strings.Join(f.left, " "), "L1>L2") {
		t.Fatalf("the older launch's waiters were not told: %v", f.left)
	}
}

// Waiters of a launch hear when it ends without a note: its window gone, a
// logout before its window loaded, a new window asked for instead.
func TestLaunchesThatEndWithoutANoteAreReported(t *testing.T) {
	s, f := attributionServer(t, Options{GoneAfter: 50 * time.Millisecond})
	w := openWindow(t, s, s.Present(launchFor("L1", "dr.a@x.example", "P1", "")).URL)
	w.cancel() // the window closes
	time.Sleep(300 * time.Millisecond)
	loading := s.Present(launchFor("L2", "dr.a@x.example", "P2", ""))
	if loading.URL == "" {
		t.Fatal("a gone window still follows the EMR")
	}
	fresh := launchFor("L3", "dr.a@x.example", "P3", "")
	fresh.NewWindow = true
	s.Present(fresh)
	s.Logout()
	f.mu.Lock()
	left := " " + strings.Join(f.left, " ") + " "
	f.mu.Unlock()
	for _, want := range []string{"L1>", "L2>L3", "L3>"} {
		if !strings.Contains(left, " "+want+" ") {
			t.Errorf("ViewLeft %q lacks %q", left, want)
		}
	}
}

// A page that reconnects hears the switch it missed.
func TestAReconnectingPageHearsWhatItMissed(t *testing.T) {
	s, _ := attributionServer(t, Options{})
	w := openWindow(t, s, s.Present(launchFor("L1", "dr.a@x.example", "P1", "")).URL)
	w.cancel()
	time.Sleep(50 * time.Millisecond)
	// With no stream open the window does not follow, so a launch gets its
	// own link; but a held switch applied while the stream was down must
	// reach the page when it comes back.
	s.mu.Lock()
	p := s.pages[func() string {
		for id := range s.pages {
			return id
		}
		return ""
	}()]
	s.applyLocked(p, &held{launch: launchFor("L2", "dr.a@x.example", "P2", "")})
	s.mu.Unlock()
	w.connect()
	if ev := w.next("show"); ev.View.ID != "L2" {
		t.Fatalf("after the reconnect: %+v", ev)
	}
}
