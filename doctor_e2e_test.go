//go:build linux

package main

import (
	"encoding/json"
	"net"
	"strconv"
	"strings"
	"testing"

	"github.com/heidi-tray/heidi-tray/launcher/testrig"
)

type doctorReport struct {
	OK     bool
	Checks []struct{ Name, Status, Detail, Fix string }
}

func (w *world) doctor(args ...string) (doctorReport, result) {
	w.t.Helper()
	r := w.cli("", append([]string{"doctor", "--json"}, args...)...)
	var rep doctorReport
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		w.t.Fatalf("doctor --json printed %q (%v)", r.stdout, err)
	}
	return rep, r
}

func check(t *testing.T, rep doctorReport, name string) (status, detail, fix string) {
	t.Helper()
	for _, c := range rep.Checks {
		if c.Name == name {
			return c.Status, c.Detail, c.Fix
		}
	}
	t.Fatalf("doctor has no %q check: %+v", name, rep.Checks)
	return
}

func TestDoctorAllGreen(t *testing.T) {
	testrig.Need(t, "xdg-mime", "xdg-utils")
	w := newWorld(t)
	w.setKey("AU")
	startWatcher(t)
	w.cli("", "install")
	w.startTray()
	rep, r := w.doctor("--online")
	if r.code != 0 || !rep.OK {
		t.Fatalf("doctor: %+v\n%s", rep, r.stderr)
	}
	for _, c := range rep.Checks {
		if c.Status != "ok" {
			t.Errorf("%s: %s %s (%s)", c.Name, c.Status, c.Detail, c.Fix)
		}
	}
	if _, d, _ := check(t, rep, "jwt request"); !strings.Contains(d, "test@heidihealth.com") {
		t.Fatalf("jwt request: %s", d)
	}
	calls := w.fake.Calls()
	if len(calls) != 2 || calls[1].Email != "test@heidihealth.com" || calls[1].APIKey != e2eKey {
		t.Fatalf("doctor --online should make one real JWT request for the test identity: %+v", calls)
	}
	w.cli("", "uninstall")
	w.sweep()
}

func TestDoctorNamesEachFailureWithItsFix(t *testing.T) {
	w := newWorld(t)
	w.setKey("AU")

	// Heidi down and the page port busy (no tray running).
	busy, _ := net.Listen("tcp", "127.0.0.1:0")
	defer busy.Close()
	down, _ := net.Listen("tcp", "127.0.0.1:0")
	downAddr := down.Addr().String()
	down.Close()
	env := w.env
	w.env = append(env, "HEIDI_TRAY_API_BASE=http://"+downAddr+"/api", "HEIDI_TRAY_PORT="+strconv.Itoa(busy.Addr().(*net.TCPAddr).Port))
	rep, r := w.doctor()
	if r.code != 1 || rep.OK {
		t.Fatalf("doctor should fail: %+v", r)
	}
	if s, d, fix := check(t, rep, "heidi reachable"); s != "fail" || !strings.Contains(d, "connection refused") || !strings.Contains(fix, "proxy") {
		t.Errorf("heidi down: %s %s %s", s, d, fix)
	}
	if s, d, fix := check(t, rep, "page port"); s != "fail" || !strings.Contains(d, "in use") || !strings.Contains(fix, "port setting") {
		t.Errorf("port busy: %s %s %s", s, d, fix)
	}
	if s, _, fix := check(t, rep, "tray"); s != "warn" || !strings.Contains(fix, "heidi-tray run") {
		t.Errorf("tray: %s %s", s, fix)
	}

	// A key Heidi rejects.
	w.env = env
	w.fake.SetKeys("another-key")
	rep, r = w.doctor("--online")
	if s, d, fix := check(t, rep, "jwt request"); r.code != 1 || s != "fail" || !strings.Contains(d, "rejected the AU API key") || !strings.Contains(fix, "key set --region AU") {
		t.Errorf("rejected key: %s %s %s", s, d, fix)
	}

	// No keychain at all.
	w.env = testrig.Unset(env, "DBUS_SESSION_BUS_ADDRESS")
	rep, r = w.doctor()
	if s, d, fix := check(t, rep, "keychain"); r.code != 1 || s != "fail" || !strings.Contains(d, "no D-Bus session bus") || !strings.Contains(fix, "Secret Service") {
		t.Errorf("no keychain: %s %s %s", s, d, fix)
	}
	if s, _, _ := check(t, rep, "api key"); s != "skip" {
		t.Errorf("api key without a keychain: %s", s)
	}

	// A bad setting is a warning with its file and line: heidi-tray runs on
	// the safe value meanwhile (here the default region).
	w.env = append(env, "HEIDI_TRAY_CONFIG="+w.dir+"/bad.toml")
	writeFile(t, w.dir+"/bad.toml", "region = \"XX\"\n")
	rep, _ = w.doctor()
	if s, d, _ := check(t, rep, "settings"); s != "warn" || !strings.Contains(d, "bad.toml:1") || !strings.Contains(d, "previous value (AU) stays") {
		t.Errorf("bad config: %s %s", s, d)
	}
}
