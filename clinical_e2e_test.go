//go:build linux

package main

// The clinical-safety suite (docs/clinical-safety.md): the built tray, real
// headless Chromium and the SDK stand-in, driven the way a clinic uses them —
// recordings, late notes, rapid opens, restarts and reloads — asserting for
// each what is filed (patient, encounter, Heidi session) and what the banner
// and the widget show at the end.

import (
	"bytes"
	"context"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/heidi-tray/heidi-tray/launcher/ipc"
	"github.com/heidi-tray/heidi-tray/launcher/wire"
)

func openArgs(patient, name, encounter string) []string {
	a := append([]string{}, drA...)
	if patient != "" {
		a = append(a, patientArgs(patient, name, "1980-02-03")...)
	}
	if encounter != "" {
		a = append(a, "--encounter-id", encounter)
	}
	return a
}

func (w *world) window(t *testing.T) wire.WindowState {
	t.Helper()
	ws, err := ipc.NewClient(filepath.Join(w.dir, "run", "heidi-tray", "ipc.sock")).Window(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return ws
}

// startWaiter runs 'open --wait-note' in the background.
func startWaiter(t *testing.T, w *world, args ...string) (*exec.Cmd, *bytes.Buffer, *bytes.Buffer) {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"open", "--wait-note"}, args...)...)
	cmd.Env = w.env
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return cmd, &out, &errOut
}

func exitCode(t *testing.T, cmd *exec.Cmd) int {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode()
		}
		if err != nil {
			t.Fatal(err)
		}
		return 0
	case <-time.After(10 * time.Second):
		t.Fatal("the waiter did not end")
		return -1
	}
}

func pushFromPage(t *testing.T, ctx context.Context, w *world) wire.Note {
	t.Helper()
	before := len(outboxFiles(t, w))
	run(t, ctx, chromedp.Click(chromedp.CSS("#hs-push")))
	eventually(t, "the note in the outbox", func() bool { return len(outboxFiles(t, w)) > before })
	return latestNote(t, w)
}

// The worst case of the old design: record for P1, the EMR moves to P2, the
// recording stops, and Heidi's note for P1 arrives afterwards.
func TestClinicalLateNoteOfARecordingIsFiledUnderItsPatient(t *testing.T) {
	w, ctx := pageWorld(t)
	waiter, waitOut, _ := startWaiter(t, w, openArgs("P-1", "Jane Citizen", "E-1")...)
	run(t, ctx, chromedp.Navigate(w.waitBrowser(1)[0]))
	p1 := waitFor(t, ctx, "the widget on P-1", func(s sbx) bool { return s.SessionID != "" && s.Patient != nil && s.Patient.ID == "P-1" })
	waitLive(t, w)

	run(t, ctx, chromedp.Click(chromedp.CSS("#hs-start")))
	eventually(t, "the recording to reach the tray", func() bool { return w.window(t).Recording })
	if r := w.cli("", append([]string{"open", "--json"}, openArgs("P-2", "John Smith", "E-2")...)...); !strings.Contains(r.stdout, `"switch_pending"`) {
		t.Fatalf("switch during the recording: %+v", r)
	}
	run(t, ctx, chromedp.Click(chromedp.CSS("#hs-stop")))
	waitPage(t, ctx, "the push-or-discard prompt", `!!document.querySelector("#discard-and-switch")`)
	ws := w.window(t)
	if ws.LaunchID == "" || ws.Patient == nil || ws.Patient.ID != "P-1" || !ws.AwaitingNote || ws.Pending == nil || ws.Pending.Patient.ID != "P-2" {
		t.Fatalf("window while the note is outstanding: %+v", ws)
	}
	time.Sleep(300 * time.Millisecond) // nothing switches on its own meanwhile
	if s := sandboxState(t, ctx); s.Patient.ID != "P-1" || text(t, ctx, "#patient-name") != "Jane Citizen" {
		t.Fatalf("the window left P-1 before its note: widget %+v banner %q", s.Patient, text(t, ctx, "#patient-name"))
	}

	note := pushFromPage(t, ctx, w)
	if note.PatientID != "P-1" || note.PatientName != "Jane Citizen" || note.PatientDOB != "1980-02-03" || note.EncounterID != "E-1" ||
		note.SessionID != p1.SessionID || note.Warning != "" || !strings.Contains(note.Text, "for Jane Citizen") {
		t.Fatalf("the late note was filed as %+v", note)
	}
	if exitCode(t, waiter) != 0 {
		t.Fatal("the waiter for P-1 failed")
	}
	var waited wire.WaitedNote
	if json.Unmarshal(waitOut.Bytes(), &waited); waited.ID != note.ID || waited.PatientID != "P-1" || waited.Open.Status != "opened" {
		t.Fatalf("--wait-note printed %s", waitOut)
	}
	// Then, and only then, the window moves to P-2: banner and widget agree.
	s := waitFor(t, ctx, "the switch to P-2", func(s sbx) bool {
		return s.Patient != nil && s.Patient.ID == "P-2" && s.SessionID != p1.SessionID && s.SessionID != ""
	})
	if got := text(t, ctx, "#patient-name"); got != "John Smith" {
		t.Fatalf("banner %q with the widget on %s", got, s.Patient.ID)
	}
	// The next note is P-2's, in P-2's own session.
	note = pushFromPage(t, ctx, w)
	if note.PatientID != "P-2" || note.EncounterID != "E-2" || note.SessionID != s.SessionID || note.SessionID == p1.SessionID {
		t.Fatalf("P-2's note %+v", note)
	}
	w.sweep()
}

// Rapid opens while Heidi reports its sessions late: every session is stored
// against the patient it was opened for, so reopening an encounter never
// loads another patient's session.
func TestClinicalRapidSwitchesWithLateSessions(t *testing.T) {
	w, ctx := pageWorld(t)
	openPage(t, w, ctx, openArgs("P-1", "Pat One", "E-1")...)
	waitLive(t, w)
	get(t, ctx, chromedp.Evaluate[int](`window.__heidiSandbox.sessionStartDelayMs = 400`))
	for _, p := range []string{"P-2", "P-3", "P-4"} {
		if r := w.cli("", append([]string{"open"}, openArgs(p, "Pat "+p, "E-"+p)...)...); r.code != 0 {
			t.Fatal(r)
		}
	}
	waitFor(t, ctx, "the last switch", func(s sbx) bool { return s.Patient != nil && s.Patient.ID == "P-4" && s.SessionID != "" })
	get(t, ctx, chromedp.Evaluate[int](`window.__heidiSandbox.sessionStartDelayMs = 0`))
	time.Sleep(500 * time.Millisecond)
	var started []struct{ ID, PatientID string }
	json.Unmarshal([]byte(get(t, ctx, chromedp.Evaluate[string](`JSON.stringify(window.__heidiSandbox.sessions)`))), &started)
	owner := map[string]string{}
	for _, s := range started {
		owner[s.ID] = s.PatientID
	}
	// Reopen each encounter: the widget must be given a session that was
	// started for that patient, or a new one — never another patient's.
	for _, p := range []string{"P-2", "P-3", "P-4", "P-1"} {
		if r := w.cli("", append([]string{"open"}, openArgs(p, "Pat "+p, "E-"+p)...)...); r.code != 0 {
			t.Fatal(r)
		}
		s := waitFor(t, ctx, "reopen "+p, func(s sbx) bool { return s.Patient != nil && s.Patient.ID == p && s.SessionID != "" })
		if o, known := owner[s.SessionID]; known && o != p {
			t.Fatalf("reopening %s loaded session %s, which was started for %s", p, s.SessionID, o)
		}
		if got := text(t, ctx, "#patient-name"); got != "Pat "+p && !(p == "P-1" && got == "Pat One") {
			t.Fatalf("banner %q for %s", got, p)
		}
	}
}

// An open without a patient clears the patient in the same step as the
// banner; its note carries no patient and no other patient's session.
func TestClinicalOpenWithoutAPatient(t *testing.T) {
	w, ctx := pageWorld(t)
	p1 := openPage(t, w, ctx, openArgs("P-1", "Jane Citizen", "E-1")...)
	waitLive(t, w)
	if r := w.cli("", append([]string{"open"}, drA...)...); r.code != 0 {
		t.Fatal(r)
	}
	s := waitFor(t, ctx, "no patient", func(s sbx) bool { return s.Patient == nil && s.SessionID != "" && s.SessionID != p1.SessionID })
	if got := text(t, ctx, "#patient-name"); got != "No patient selected in the EMR" {
		t.Fatalf("banner %q", got)
	}
	note := pushFromPage(t, ctx, w)
	if note.PatientID != "" || note.PatientName != "" || note.SessionID != s.SessionID || note.EncounterID != "" {
		t.Fatalf("a note with no patient was filed as %+v", note)
	}
}

// After a tray restart the old window says it no longer follows the EMR and
// files nothing; before it, several opens open one window.
func TestClinicalRestartAndOneWindow(t *testing.T) {
	w, ctx := pageWorld(t)
	for _, p := range []string{"P-1", "P-2", "P-3"} {
		if r := w.cli("", append([]string{"open"}, openArgs(p, "Pat "+p, "")...)...); r.code != 0 {
			t.Fatal(r)
		}
	}
	urls := w.waitBrowser(1)
	time.Sleep(200 * time.Millisecond)
	if n := len(w.browserURLs()); n != 1 {
		t.Fatalf("%d windows for three opens before the first loaded", n)
	}
	run(t, ctx, chromedp.Navigate(urls[0]))
	waitFor(t, ctx, "the window on the latest launch", func(s sbx) bool { return s.Patient != nil && s.Patient.ID == "P-3" })
	if got := text(t, ctx, "#patient-name"); got != "Pat P-3" {
		t.Fatalf("banner %q", got)
	}
	waitLive(t, w)

	tray := w.trays[len(w.trays)-1]
	tray.Process.Signal(syscall.SIGKILL)
	w.waitExit(tray, 5*time.Second)
	w.startTray()
	waitPage(t, ctx, "the window to stop following", `!window.__heidiTray.following`)
	if got := text(t, ctx, "#patient-name"); got != "Not following the EMR" {
		t.Fatalf("banner after a restart: %q", got)
	}
	if got := text(t, ctx, "#notice"); !strings.Contains(got, "no longer follows the EMR") || !strings.Contains(got, "Open Heidi again from your EMR") {
		t.Fatalf("notice after a restart: %q", got)
	}
	before := len(outboxFiles(t, w))
	run(t, ctx, chromedp.Click(chromedp.CSS("#hs-push")))
	time.Sleep(300 * time.Millisecond)
	if len(outboxFiles(t, w)) != before || !strings.Contains(text(t, ctx, "#notice"), "NOT saved") {
		t.Fatalf("a window that no longer follows the EMR filed a note (notice %q)", text(t, ctx, "#notice"))
	}
	// The EMR moves on: the new tray opens a new window; the old one stays put.
	if r := w.cli("", append([]string{"open"}, openArgs("P-4", "Pat P-4", "")...)...); r.code != 0 || len(w.waitBrowser(2)) != 2 {
		t.Fatalf("open after the restart: %+v", r)
	}
}

// A reload during a recording: the tray stops believing a recording runs,
// the next switch waits for that recording's note, and the clinician can
// move on.
func TestClinicalReloadDuringARecording(t *testing.T) {
	w, ctx := pageWorld(t)
	openPage(t, w, ctx, openArgs("P-1", "Jane Citizen", "E-1")...)
	waitLive(t, w)
	run(t, ctx, chromedp.Click(chromedp.CSS("#hs-start")))
	eventually(t, "recording", func() bool { return w.status()["state"] == "recording" })
	// The page asks before leaving during a recording; the clinician
	// reloads anyway.
	chromedp.Listen(ctx, func(ev any) {
		if _, ok := ev.(*page.EventJavascriptDialogOpening); ok {
			go chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true})
		}
	})
	run(t, ctx, chromedp.Reload())
	waitFor(t, ctx, "the reloaded widget", func(s sbx) bool { return s.SessionID != "" && s.Recording == "NOT_STARTED" })
	eventually(t, "the tray to stop believing it records", func() bool { return w.status()["state"] != "recording" })
	waitLive(t, w)
	if r := w.cli("", append([]string{"open", "--json"}, openArgs("P-2", "John Smith", "E-2")...)...); !strings.Contains(r.stdout, `"switch_pending"`) {
		t.Fatalf("switch after an interrupted recording: %+v", r)
	}
	waitPage(t, ctx, "the prompt", `!!document.querySelector("#discard-and-switch")`)
	run(t, ctx, chromedp.Click(chromedp.CSS("#discard-and-switch")))
	waitFor(t, ctx, "the switch", func(s sbx) bool { return s.Patient != nil && s.Patient.ID == "P-2" })
	if got := text(t, ctx, "#patient-name"); got != "John Smith" {
		t.Fatalf("banner %q", got)
	}
}

// --wait-note: every waiter gets its own launch's note; a waiter whose
// launch the window left first, a tray that stops and a timeout each end it
// with their own exit code.
func TestClinicalWaitNoteRules(t *testing.T) {
	w, ctx := pageWorld(t)
	first, _, firstErr := startWaiter(t, w, openArgs("P-1", "Jane Citizen", "E-1")...)
	run(t, ctx, chromedp.Navigate(w.waitBrowser(1)[0]))
	waitFor(t, ctx, "the widget", func(s sbx) bool { return s.SessionID != "" })
	waitLive(t, w)
	// The same patient again: a new launch, which the window moves to.
	second, secondOut, _ := startWaiter(t, w, openArgs("P-1", "Jane Citizen", "E-1")...)
	if code := exitCode(t, first); code != 4 || !strings.Contains(firstErr.String(), "moved on to launch") {
		t.Fatalf("the first waiter: exit %d %q", code, firstErr)
	}
	eventually(t, "the window on the second launch", func() bool { return w.window(t).LaunchID != "" })
	note := pushFromPage(t, ctx, w)
	if code := exitCode(t, second); code != 0 {
		t.Fatalf("the second waiter: exit %d", code)
	}
	var got wire.WaitedNote
	if json.Unmarshal(secondOut.Bytes(), &got); got.ID != note.ID || got.LaunchID != note.LaunchID {
		t.Fatalf("the second waiter printed %s", secondOut)
	}
	timed, _, timedErr := startWaiter(t, w, append(openArgs("P-1", "Jane Citizen", "E-1"), "--wait-timeout", "1s")...)
	if code := exitCode(t, timed); code != 6 || !strings.Contains(timedErr.String(), "in time") {
		t.Fatalf("--wait-timeout: exit %d %q", code, timedErr)
	}
	stopped, _, stoppedErr := startWaiter(t, w, openArgs("P-1", "Jane Citizen", "E-1")...)
	eventually(t, "the waiter's launch", func() bool { return w.window(t).LaunchID != note.LaunchID })
	if r := w.cli("", "quit"); r.code != 0 {
		t.Fatal(r)
	}
	if code := exitCode(t, stopped); code != 5 || !strings.Contains(stoppedErr.String(), "stopped before a note was pushed") {
		t.Fatalf("tray quit under a waiter: exit %d %q", code, stoppedErr)
	}
}
