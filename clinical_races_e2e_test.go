//go:build linux

package main

// Races found by an adversarial clinical-safety review, kept as tests: a
// recording started while a switch is on its way, Heidi reporting sessions
// and pushes late, a second tab, links loaded out of order, windows that
// close or never load (docs/clinical-safety.md).

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

func longEventually(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}

func mustOpen(t *testing.T, w *world, want string, args ...string) {
	t.Helper()
	r := w.cli("", append([]string{"open", "--json"}, args...)...)
	if r.code != 0 || (want != "" && !strings.Contains(r.stdout, `"`+want+`"`)) {
		t.Fatalf("open %v: %+v (want %s)", args, r, want)
	}
}

// The EMR switches (no recording yet, so the tray sends the switch at once),
// the page defers it while it waits for the previous open's late
// onSessionStarted, and the clinician starts recording on the patient the
// banner and widget still show: the switch is held, the note is that
// patient's.
func TestClinicalRaceRecordingStartedWhileTheSwitchIsDeferred(t *testing.T) {
	w, ctx := pageWorld(t)
	openPage(t, w, ctx, openArgs("P-1", "Jane Citizen", "E-1")...)
	waitLive(t, w)
	get(t, ctx, chromedp.Evaluate[int](`window.__heidiSandbox.sessionStartDelayMs = 4000`))
	mustOpen(t, w, "switched", openArgs("P-2", "John Smith", "E-2")...)
	waitFor(t, ctx, "widget on P-2", func(s sbx) bool { return s.Patient != nil && s.Patient.ID == "P-2" })
	mustOpen(t, w, "switched", openArgs("P-3", "Mary Major", "E-3")...)
	time.Sleep(300 * time.Millisecond)
	banner := text(t, ctx, "#patient-name")
	s := sandboxState(t, ctx)
	t.Logf("before recording: banner %q widget %s, tray window %+v", banner, s.Patient.ID, w.window(t).Patient)
	// The clinician sees John Smith and records his consultation.
	run(t, ctx, chromedp.Click(chromedp.CSS("#hs-start")))
	eventually(t, "recording", func() bool { return w.window(t).Recording })
	time.Sleep(4500 * time.Millisecond)
	s = sandboxState(t, ctx)
	if s.Patient == nil || s.Patient.ID != "P-2" || s.Recording != "RECORDING" {
		t.Errorf("the window moved under a running recording (started on %q): widget now on %+v, recording %s, banner %q",
			banner, s.Patient, s.Recording, text(t, ctx, "#patient-name"))
	}
	run(t, ctx, chromedp.Click(chromedp.CSS("#hs-stop")))
	time.Sleep(300 * time.Millisecond)
	note := pushFromPage(t, ctx, w)
	if note.PatientID != "P-2" {
		t.Errorf("the recording started on %q was filed as patient %s (%s) encounter %s session %s warning %q",
			banner, note.PatientID, note.PatientName, note.EncounterID, note.SessionID, note.Warning)
	}
	ws := w.window(t)
	t.Logf("after push: tray window awaiting_note=%v pending=%+v", ws.AwaitingNote, ws.Pending)
}

// onSessionStarted later than the page's 5 s bound: the late report cannot
// be told apart, so nothing is stored for it, and no launch gets another
// patient's session.
func TestClinicalRaceVeryLateSessionIsNotStoredAgainstTheNextPatient(t *testing.T) {
	w, ctx := pageWorld(t)
	openPage(t, w, ctx, openArgs("P-1", "Pat One", "E-1")...)
	waitLive(t, w)
	get(t, ctx, chromedp.Evaluate[int](`window.__heidiSandbox.sessionStartDelayMs = 6000`))
	mustOpen(t, w, "switched", openArgs("P-2", "Pat Two", "E-2")...)
	waitFor(t, ctx, "widget on P-2", func(s sbx) bool { return s.Patient != nil && s.Patient.ID == "P-2" })
	mustOpen(t, w, "switched", openArgs("P-3", "Pat Three", "E-3")...)
	longEventually(t, "all sessions reported", 20*time.Second, func() bool {
		var n int
		n = get(t, ctx, chromedp.Evaluate[int](`window.__heidiSandbox.sessions.length`))
		return n >= 3
	})
	raw := get(t, ctx, chromedp.Evaluate[string](`JSON.stringify(window.__heidiSandbox.sessions)`))
	var started []struct{ ID, PatientID string }
	json.Unmarshal([]byte(raw), &started)
	// seq order: 1 = P-1's open, 2 = P-2's, 3 = P-3's
	owner := map[string]string{}
	for _, s := range started {
		switch {
		case strings.HasSuffix(s.ID, "-1"):
			owner[s.ID] = "P-1"
		case strings.HasSuffix(s.ID, "-2"):
			owner[s.ID] = "P-2"
		case strings.HasSuffix(s.ID, "-3"):
			owner[s.ID] = "P-3"
		}
	}
	t.Logf("sessions %s", raw)
	ws := w.window(t)
	t.Logf("tray window: patient %s session %s (opened for %s)", ws.Patient.ID, ws.HeidiSessionID, owner[ws.HeidiSessionID])
	if o := owner[ws.HeidiSessionID]; ws.HeidiSessionID != "" && o != "P-3" {
		t.Errorf("P-3's view holds session %s, which Heidi started for %s", ws.HeidiSessionID, o)
	}
	note := pushFromPage(t, ctx, w)
	t.Logf("note from P-3: patient %s session %s warning %q", note.PatientID, note.SessionID, note.Warning)
	if o := owner[note.SessionID]; note.SessionID != "" && o != "P-3" {
		t.Errorf("P-3's note was filed with session %s, started for %s", note.SessionID, o)
	}
	// Reopen E-3 later: the stored session must be P-3's (or none).
	get(t, ctx, chromedp.Evaluate[int](`window.__heidiSandbox.sessionStartDelayMs = 0`))
	mustOpen(t, w, "switched", openArgs("P-1", "Pat One", "E-1")...)
	waitFor(t, ctx, "P-1", func(s sbx) bool { return s.Patient != nil && s.Patient.ID == "P-1" })
	time.Sleep(300 * time.Millisecond)
	mustOpen(t, w, "switched", openArgs("P-3", "Pat Three", "E-3")...)
	s := waitFor(t, ctx, "P-3 reopened", func(s sbx) bool { return s.Patient != nil && s.Patient.ID == "P-3" && s.SessionID != "" })
	if o, known := owner[s.SessionID]; known && o != "P-3" {
		t.Errorf("reopening P-3/E-3 loaded session %s, which Heidi started for %s (banner %q)", s.SessionID, o, text(t, ctx, "#patient-name"))
	}
}

// A second tab on the same page (a duplicated or restored tab, a bookmark
// of 127.0.0.1:PORT) while the first records.
func TestClinicalRaceSecondTabDuringARecording(t *testing.T) {
	w, ctx := pageWorld(t)
	openPage(t, w, ctx, openArgs("P-1", "Jane Citizen", "E-1")...)
	waitLive(t, w)
	run(t, ctx, chromedp.Click(chromedp.CSS("#hs-start")))
	eventually(t, "recording", func() bool { return w.window(t).Recording })
	// A duplicated tab (same cookie) is told the window is open elsewhere
	// and loads no widget; the first tab's recording is untouched.
	get(t, ctx, chromedp.Evaluate[bool](`(function(){ const b = document.createElement("button"); b.id = "rv-open-tab"; b.textContent = "tab"; b.onclick = () => { window.__tab2 = window.open("/", "_blank"); }; document.body.prepend(b); return true; })()`))
	run(t, ctx, chromedp.Click(chromedp.CSS("#rv-open-tab")))
	waitPage(t, ctx, "tab 2 refused", `window.__tab2 && window.__tab2.document.querySelector("#state-title") && window.__tab2.document.querySelector("#state-title").textContent === "Heidi is already open"`)
	if get(t, ctx, chromedp.Evaluate[bool](`!!(window.__tab2.__heidiSandbox && window.__tab2.__heidiSandbox.sessionId)`)) {
		t.Fatal("the second tab loaded a widget")
	}
	if ws := w.window(t); !ws.Recording {
		t.Fatalf("a second tab ended the first tab's recording: %+v", ws)
	}
	if r := w.cli("", append([]string{"open", "--json"}, openArgs("P-2", "John Smith", "E-2")...)...); !strings.Contains(r.stdout, `"switch_pending"`) {
		t.Fatalf("open P-2 during the recording: %+v", r)
	}
	run(t, ctx, chromedp.Click(chromedp.CSS("#hs-stop")))
	waitPage(t, ctx, "the prompt", `!!document.querySelector("#discard-and-switch")`)
	note := pushFromPage(t, ctx, w)
	if note.PatientID != "P-1" || note.EncounterID != "E-1" {
		t.Errorf("the recording made for P-1 was filed as %s %s enc %s", note.PatientID, note.PatientName, note.EncounterID)
	}
	waitFor(t, ctx, "then P-2", func(s sbx) bool { return s.Patient != nil && s.Patient.ID == "P-2" })
}

// A logout while the window is still loading ends the launch's --wait-note
// waiter with exit 4 (docs/ipc.md).
func TestClinicalRaceLogoutBeforeTheWindowLoadsEndsItsWaiter(t *testing.T) {
	w := newWorld(t)
	w.setKey("AU")
	w.startTray()
	waiter, _, errOut := startWaiter(t, w, append(openArgs("P-1", "Jane Citizen", "E-1"), "--wait-timeout", "8s")...)
	w.waitBrowser(1)
	if r := w.cli("", "logout"); r.code != 0 {
		t.Fatal(r)
	}
	start := time.Now()
	code := exitCode(t, waiter)
	if code != 4 {
		t.Errorf("waiter after logout: exit %d after %s, %q (want 4 at once)", code, time.Since(start).Round(time.Second), errOut)
	}
}

// The window closes (no recording): its waiter ends with exit 4 once the
// window has been gone 30 s (docs/ipc.md).
func TestClinicalRaceClosedWindowEndsItsWaiter(t *testing.T) {
	w, ctx := pageWorld(t)
	waiter, _, errOut := startWaiter(t, w, append(openArgs("P-1", "Jane Citizen", "E-1"), "--wait-timeout", "45s")...)
	run(t, ctx, chromedp.Navigate(w.waitBrowser(1)[0]))
	waitFor(t, ctx, "widget", func(s sbx) bool { return s.SessionID != "" })
	waitLive(t, w)
	run(t, ctx, chromedp.Navigate("about:blank"))
	start := time.Now()
	done := make(chan int, 1)
	go func() {
		waiter.Wait()
		done <- waiter.ProcessState.ExitCode()
	}()
	select {
	case code := <-done:
		if code != 4 {
			t.Errorf("waiter after the window closed: exit %d after %s %q", code, time.Since(start).Round(time.Second), errOut)
		}
	case <-time.After(60 * time.Second):
		t.Errorf("waiter still waiting 60 s after its window closed")
	}
}

// Two links issued more than 10 s apart and loaded in the opposite order (a
// cold browser start): the window with the EMR's newer launch keeps
// following.
func TestClinicalRaceOlderLinkRedeemedLastDoesNotTakeOver(t *testing.T) {
	w, ctx := pageWorld(t)
	mustOpen(t, w, "opened", openArgs("P-1", "Jane Citizen", "E-1")...)
	u1 := w.waitBrowser(1)[0]
	time.Sleep(10500 * time.Millisecond)
	mustOpen(t, w, "opened", openArgs("P-2", "John Smith", "E-2")...)
	u2 := w.waitBrowser(2)[1]
	run(t, ctx, chromedp.Navigate(u2))
	waitFor(t, ctx, "P-2", func(s sbx) bool { return s.Patient != nil && s.Patient.ID == "P-2" && s.SessionID != "" })
	waitLive(t, w)
	get(t, ctx, chromedp.Evaluate[bool](`(function(){ const b = document.createElement("button"); b.id = "rv-open-tab"; b.textContent = "tab"; b.onclick = () => { window.__tab2 = window.open(`+jsString(u1)+`, "_blank"); }; document.body.prepend(b); return true; })()`))
	run(t, ctx, chromedp.Click(chromedp.CSS("#rv-open-tab")))
	waitPage(t, ctx, "tab 2's widget", `window.__tab2 && window.__tab2.__heidiSandbox && window.__tab2.__heidiSandbox.sessionId`)
	time.Sleep(500 * time.Millisecond)
	ws := w.window(t)
	if ws.Patient == nil || ws.Patient.ID != "P-2" {
		t.Errorf("the EMR's latest launch is P-2, but the window following the EMR shows %+v (tab 2 banner %q; tab 1 banner %q)",
			ws.Patient, get(t, ctx, chromedp.Evaluate[string](`window.__tab2.document.querySelector("#patient-name").textContent`)), text(t, ctx, "#patient-name"))
	}
}

// Heidi's widget is an iframe that reports pushes by postMessage, so a push
// can reach the page after a switch it did not hold (no recording): it is
// filed under the launch whose Heidi session it names.
func TestClinicalRacePushDeliveredAfterASwitchKeepsItsPatient(t *testing.T) {
	w, ctx := pageWorld(t)
	// Deliver onPushData 300 ms after the click, as a postMessage would.
	if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: `(function(){ let H;
		  Object.defineProperty(window, "Heidi", { configurable: true, get(){ return H; }, set(v){ H = v;
		    const on = v.onPushData.bind(v); v.onPushData = (f) => on((d) => { const copy = JSON.parse(JSON.stringify(d)); setTimeout(() => f(copy), 300); }); } }); })();`}); err != nil {
		t.Fatal(err)
	}
	p1 := openPage(t, w, ctx, openArgs("P-1", "Jane Citizen", "E-1")...)
	waitLive(t, w)
	before := len(outboxFiles(t, w))
	run(t, ctx, chromedp.Click(chromedp.CSS("#hs-push"))) // P-1's note
	mustOpen(t, w, "switched", openArgs("P-2", "John Smith", "E-2")...)
	eventually(t, "the note", func() bool { return len(outboxFiles(t, w)) > before })
	note := latestNote(t, w)
	if note.PatientID != "P-1" {
		t.Errorf("P-1's note (session %s, text %q) was filed as patient %s %s enc %s session %q warning %q",
			p1.SessionID, strings.SplitN(note.Text, "\n", 2)[0], note.PatientID, note.PatientName, note.EncounterID, note.SessionID, note.Warning)
	}
}
