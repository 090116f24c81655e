//go:build linux

package main

// The EMR's side of the contract, proven with the reference client in
// examples/python: it follows the note feed while both it and the tray are
// killed (SIGKILL) and restarted at random points during a stream of pushes,
// and must file every note exactly once, with the right patient.

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/heidi-tray/heidi-tray/launcher/testrig"
)

// fakePage is the widget page as the tray sees it, without a browser: it
// redeems the one-time link and pushes notes with the page's own calls.
type fakePage struct {
	origin string
	hc     *http.Client
	view   string
	secret string // the page secret, from the redirect's #page=
}

func newFakePage(t *testing.T, w *world, patient string) *fakePage {
	t.Helper()
	before := len(w.browserURLs())
	r := w.cli("", append([]string{"open", "--json"}, openArgs(patient, "Name "+patient, "E-"+patient)...)...)
	if r.code != 0 {
		t.Fatalf("open: %+v", r)
	}
	var res struct {
		LaunchID string `json:"launch_id"`
	}
	json.Unmarshal([]byte(r.stdout), &res)
	link := w.waitBrowser(before + 1)[before]
	jar, _ := cookiejar.New(nil)
	p := &fakePage{hc: &http.Client{Jar: jar}, view: res.LaunchID}
	u, _ := url.Parse(link)
	p.origin = u.Scheme + "://" + u.Host
	resp, err := p.hc.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	p.secret = strings.TrimPrefix(resp.Request.URL.Fragment, "page=")
	return p
}

func (p *fakePage) push(text string) error {
	body, _ := json.Marshal(map[string]any{"view_id": p.view, "kind": "data", "payload": map[string]string{"notesData": text}})
	req, _ := http.NewRequest("POST", p.origin+"/api/push", strings.NewReader(string(body)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", p.origin)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	req.Header.Set("X-Heidi-Tray-Page", p.secret)
	resp, err := p.hc.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		return fmt.Errorf("push: HTTP %d", resp.StatusCode)
	}
	return nil
}

func TestReferenceClientFilesEveryNoteOnceThroughCrashes(t *testing.T) {
	python := testrig.Need(t, "python3", "python3")
	w := newWorld(t)
	w.setKey("AU")
	w.startTray()
	store := filepath.Join(w.dir, "chart.jsonl")
	cursor := filepath.Join(w.dir, "cursor.txt")
	var client *exec.Cmd
	startClient := func() {
		client = exec.Command(python, "examples/python/heidi_tray.py", "follow", "--store", store, "--cursor", cursor)
		client.Env = w.env
		client.Stderr, _ = os.OpenFile(filepath.Join(w.dir, "client.err"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
		if err := client.Start(); err != nil {
			t.Fatal(err)
		}
	}
	startClient()
	t.Cleanup(func() { client.Process.Kill(); client.Wait() })

	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	seed := rng.Uint64()
	rng = rand.New(rand.NewPCG(seed, 7))
	t.Logf("seed %d", seed)
	// The pushes run on their own while the crashes happen at random moments.
	var mu sync.Mutex
	patient := "P-1"
	page := newFakePage(t, w, patient)
	sure := map[string]string{}  // text -> patient, for pushes the page was told were saved
	maybe := map[string]string{} // pushes cut off by a crash: may or may not be saved
	done := make(chan struct{})
	pace := rand.New(rand.NewPCG(seed, 8)) // the pusher's own: rand.Rand is not goroutine-safe
	go func() {
		defer close(done)
		for i := 0; i < 80; i++ {
			mu.Lock()
			p, pat := page, patient
			mu.Unlock()
			text := fmt.Sprintf("note %d", i)
			err := p.push(text)
			mu.Lock()
			if err == nil {
				sure[text] = pat
			} else {
				maybe[text] = pat
			}
			mu.Unlock()
			time.Sleep(time.Duration(pace.IntN(15)) * time.Millisecond)
		}
	}()
	for running := true; running; {
		select {
		case <-done:
			running = false
			continue
		case <-time.After(time.Duration(20+rng.IntN(80)) * time.Millisecond):
		}
		switch n := rng.IntN(3); n {
		case 0: // the EMR's client dies and comes back
			client.Process.Signal(syscall.SIGKILL)
			client.Wait()
			startClient()
		case 1: // the tray dies; the clinician opens Heidi again
			tray := w.trays[len(w.trays)-1]
			tray.Process.Signal(syscall.SIGKILL)
			w.waitExit(tray, 5*time.Second)
			w.startTray()
			fallthrough
		case 2: // the EMR opens Heidi for another patient
			pat := fmt.Sprintf("P-%d", len(w.trays)*100+rng.IntN(100))
			np := newFakePage(t, w, pat)
			mu.Lock()
			page, patient = np, pat // the page pushes as the launch it was opened for
			mu.Unlock()
		}
	}
	// Wait for the client to catch up: every note the page was told was
	// saved is filed, and the tray holds none unacknowledged (a push cut
	// off by a crash may have been saved too, and is filed a moment later).
	deadline := time.Now().Add(30 * time.Second)
	var filed map[string][]string
	for {
		filed = readChart(t, store)
		done := true
		for text := range sure {
			if len(filed[text]) == 0 {
				done = false
			}
		}
		if done {
			done = strings.Contains(w.cli("", "notes", "list", "--json").stdout, `"notes": []`)
		}
		if done || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	filed = readChart(t, store)
	for text, p := range sure {
		if got := filed[text]; len(got) != 1 || got[0] != p {
			t.Errorf("%q was filed %d times as %v, want once as %s", text, len(got), got, p)
		}
	}
	for text, got := range filed {
		if _, ok := sure[text]; !ok {
			if _, ok := maybe[text]; !ok || len(got) != 1 {
				t.Errorf("%q filed %v: neither pushed nor cut off by a crash, or filed twice", text, got)
			}
		}
	}
	if r := w.cli("", "notes", "list", "--json"); !strings.Contains(r.stdout, `"notes": []`) {
		t.Errorf("notes left unacknowledged: %s", r.stdout)
	}
	t.Logf("%d notes filed, %d pushes cut off by a tray crash, %d trays", len(filed), len(maybe), len(w.trays))
}

// readChart maps each filed text to the patients it was filed under.
func readChart(t *testing.T, path string) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	f, err := os.Open(path)
	if err != nil {
		return out
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var rec struct {
			Text      string `json:"text"`
			PatientID string `json:"patient_id"`
		}
		if json.Unmarshal(sc.Bytes(), &rec) == nil {
			out[rec.Text] = append(out[rec.Text], rec.PatientID)
		}
	}
	return out
}

// The shell example in docs/ipc.md runs as printed against a running tray.
func TestDocsShellExampleRuns(t *testing.T) {
	testrig.Need(t, "curl", "curl")
	testrig.Need(t, "python3", "python3")
	doc, err := os.ReadFile("docs/ipc.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(doc), "<!-- test: run by the e2e tests")
	_, rest, ok2 := strings.Cut(rest, "```sh\n")
	script, _, ok3 := strings.Cut(rest, "```")
	if !ok || !ok2 || !ok3 {
		t.Fatal("docs/ipc.md: the shell example is not where the test looks")
	}
	w := newWorld(t)
	w.setKey("AU")
	w.startTray()
	cmd := exec.Command("sh", "-eu", "-c", script)
	cmd.Env = testrig.SetEnv(w.env, "PATH="+filepath.Dir(binary)+":"+os.Getenv("PATH"))
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), `"status":"opened"`) {
		t.Fatalf("the docs' example: %v\n%s", err, out)
	}
	if len(w.waitBrowser(1)) != 1 {
		t.Fatal("the example did not open Heidi")
	}
}

// heidi-tray notes list|ack|watch, as a script would use them.
func TestNotesCommands(t *testing.T) {
	w := newWorld(t)
	w.setKey("AU")
	w.startTray()
	page := newFakePage(t, w, "P-1")
	for _, text := range []string{"first", "second"} {
		if err := page.push(text); err != nil {
			t.Fatal(err)
		}
	}
	r := w.cli("", "notes", "list")
	if r.code != 0 || strings.Count(r.stdout, "\n") != 2 || !strings.Contains(r.stdout, "Name P-1") || !strings.Contains(r.stdout, "first") {
		t.Fatalf("notes list: %+v", r)
	}
	var page1 struct {
		Notes []struct {
			ID  string
			Seq uint64
		}
	}
	json.Unmarshal([]byte(w.cli("", "notes", "list", "--json").stdout), &page1)
	if len(page1.Notes) != 2 {
		t.Fatalf("notes list --json: %+v", page1)
	}
	if r := w.cli("", "notes", "ack", page1.Notes[0].ID); r.code != 0 || !strings.Contains(r.stdout, "acked") {
		t.Fatalf("notes ack: %+v", r)
	}
	if r := w.cli("", "notes", "ack", "no-such-note"); r.code != 1 || !strings.Contains(r.stderr, "no note") {
		t.Fatalf("ack of an unknown note: %+v", r)
	}
	// watch from the first note's seq: replays the second, then a new one live,
	// and ends with exit 5 when the tray stops.
	watch := exec.Command(binary, "notes", "watch", "--after", fmt.Sprint(page1.Notes[0].Seq))
	watch.Env = w.env
	var out, errOut strings.Builder
	watch.Stdout, watch.Stderr = &out, &errOut
	if err := watch.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	page.push("third")
	time.Sleep(300 * time.Millisecond)
	w.cli("", "quit")
	if code := exitCode(t, watch); code != 5 || !strings.Contains(errOut.String(), "--after 3") {
		t.Fatalf("watch ended with %d %q", code, errOut.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], `"second"`) || !strings.Contains(lines[1], `"third"`) {
		t.Fatalf("watch printed %q", out.String())
	}
}

// The reference client never files a note that needs a person: one whose
// Heidi payload names another patient (a warning) is set aside, unfiled and
// unacknowledged.
func TestReferenceClientSetsAsideNotesThatNeedAPerson(t *testing.T) {
	python := testrig.Need(t, "python3", "python3")
	w := newWorld(t)
	w.setKey("AU")
	w.startTray()
	store := filepath.Join(w.dir, "chart.jsonl")
	client := exec.Command(python, "examples/python/heidi_tray.py", "follow", "--store", store, "--cursor", filepath.Join(w.dir, "cursor"))
	client.Env = w.env
	if err := client.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Process.Kill(); client.Wait() })
	page := newFakePage(t, w, "P-1")
	body, _ := json.Marshal(map[string]any{"view_id": page.view, "kind": "data", "payload": map[string]any{"notesData": "odd", "patientInfo": map[string]string{"id": "P-999"}}})
	req, _ := http.NewRequest("POST", page.origin+"/api/push", strings.NewReader(string(body)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", page.origin)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	req.Header.Set("X-Heidi-Tray-Page", page.secret)
	if resp, err := page.hc.Do(req); err != nil || resp.StatusCode != 200 {
		t.Fatalf("push: %v %v", resp, err)
	}
	page.push("fine")
	eventually(t, "the good note filed", func() bool { return len(readChart(t, store)["fine"]) == 1 })
	eventually(t, "the odd note set aside", func() bool {
		b, _ := os.ReadFile(store + ".review")
		return strings.Contains(string(b), "P-999")
	})
	if filed := readChart(t, store); len(filed["odd"]) != 0 {
		t.Fatalf("a note with a warning was filed: %v", filed)
	}
	if r := w.cli("", "notes", "list", "--json"); !strings.Contains(r.stdout, `"odd"`) || strings.Contains(r.stdout, `"fine"`) {
		t.Fatalf("pending after the client ran: %s", r.stdout)
	}
}
