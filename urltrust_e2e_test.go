//go:build linux

package main

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Unsigned URLs, which any web page can fire, get less: no context into the
// note, and no logout that cuts off a recording.
func TestUnsignedURLsAreTrustedLess(t *testing.T) {
	w, ctx := pageWorld(t)
	openPage(t, w, ctx, append(drA, patientArgs("P-1", "Jane Citizen", "1984-03-09")...)...)
	waitLive(t, w)
	// An unsigned URL for the bound clinician and another patient: the
	// window asks, and nothing changes until the clinician answers.
	r := w.cli("", "url", "--", openURL("dr.a@clinic.example", "42", "patient_id", "P-2", "patient_name", "John Smith"))
	if r.code != 0 || !strings.Contains(r.stdout, "asks the clinician") {
		t.Fatalf("unsigned URL for the bound clinician: %+v", r)
	}
	waitPage(t, ctx, "the Switch / Stay question", `document.querySelector("#notice").textContent.includes("The EMR asks to switch to John Smith") && !!document.querySelector("#ask-stay")`)
	if s := sandboxState(t, ctx); s.Patient == nil || s.Patient.ID != "P-1" || text(t, ctx, "#patient-name") != "Jane Citizen" {
		t.Fatalf("the patient changed before the clinician answered: %+v", s.Patient)
	}
	run(t, ctx, chromedp.Click(chromedp.CSS("#ask-stay")))
	waitPage(t, ctx, "the question to go", `document.querySelector("#notice").hidden`)
	time.Sleep(200 * time.Millisecond)
	if s := sandboxState(t, ctx); s.Patient.ID != "P-1" {
		t.Fatalf("Stay switched anyway: %+v", s.Patient)
	}
	// Switch: the patient changes, and the URL's context is not carried.
	r = w.cli("", "url", "--", openURL("dr.a@clinic.example", "42", "patient_id", "P-3", "patient_name", "Ana Perez", "context", "INJECTED: prescribe 500mg"))
	if r.code != 0 {
		t.Fatalf("second unsigned URL: %+v", r)
	}
	waitPage(t, ctx, "the Switch button", `!!document.querySelector("#ask-switch")`)
	run(t, ctx, chromedp.Click(chromedp.CSS("#ask-switch")))
	s := waitFor(t, ctx, "the switch", func(s sbx) bool { return s.Patient != nil && s.Patient.ID == "P-3" })
	if strings.Contains(s.Context, "INJECTED") {
		t.Fatalf("an unsigned URL put context into Heidi: %q", s.Context)
	}
	// The EMR's own channel (command line) still switches at once.
	if r := w.cli("", append(append([]string{"open", "--json"}, drA...), patientArgs("P-4", "Lee Wong", "1960-02-03")...)...); r.code != 0 || !strings.Contains(r.stdout, `"switched"`) {
		t.Fatalf("trusted switch: %+v", r)
	}
	waitFor(t, ctx, "the trusted switch", func(s sbx) bool { return s.Patient != nil && s.Patient.ID == "P-4" })

	run(t, ctx, chromedp.Click(chromedp.CSS("#hs-start")))
	eventually(t, "the tray's recording state", func() bool { return w.status()["state"] == "recording" })
	if r := w.cli("", "url", "--", "heidi-tray://logout"); r.code != 1 || !strings.Contains(r.stderr, "recording is in progress") {
		t.Fatalf("unsigned logout during a recording: %+v", r)
	}
	time.Sleep(200 * time.Millisecond)
	if s := sandboxState(t, ctx); s.Closed != 0 || w.status()["state"] != "recording" {
		t.Fatalf("the recording was cut off: %+v, state %v", s, w.status()["state"])
	}
	// The same logout from the EMR's command line (trusted) still works.
	if r := w.cli("", "logout"); r.code != 0 {
		t.Fatalf("logout: %+v", r)
	}
}

// require_signed_urls refuses every unsigned URL, even for the bound
// clinician; a signed one still works, and a used one stays used across a
// restart of the tray.
func TestRequireSignedURLsAndNoncesAcrossRestart(t *testing.T) {
	w := newWorld(t)
	w.env = append(w.env, "HEIDI_TRAY_REQUIRE_SIGNED_URLS=true")
	w.setKey("AU")
	w.startTray()
	if r := w.cli("", "open", "--email", "dr.s@clinic.example", "--user-id", "5"); r.code != 0 {
		t.Fatalf("open: %+v", r)
	}
	if r := w.cli("", "url", "--", openURL("dr.s@clinic.example", "5")); r.code != 1 || !strings.Contains(r.stderr, "require_signed_urls") {
		t.Fatalf("unsigned URL under require_signed_urls: %+v", r)
	}
	const secret = "clinic-launch-secret-e2e-require-0123"
	if r := w.cli(secret+"\n", "secret", "set"); r.code != 0 {
		t.Fatal(r)
	}
	t.Cleanup(func() { w.cli("", "secret", "delete") })
	w.extraSecrets = append(w.extraSecrets, secret)
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	good := sign(secret, openURL("dr.s@clinic.example", "5", "ts", ts, "nonce", "e2e-restart-"+ts+"-0001"))
	if r := w.cli("", "url", "--", good); r.code != 0 {
		t.Fatalf("signed: %+v", r)
	}
	if r := w.cli("", "quit"); r.code != 0 {
		t.Fatalf("quit: %+v", r)
	}
	eventually(t, "the tray to stop", func() bool { return w.cli("", "status").code == 3 })
	w.startTray()
	if r := w.cli("", "url", "--", good); r.code != 1 || !strings.Contains(r.stderr, "replayed") {
		t.Fatalf("a used URL after a restart: %+v", r)
	}
}
