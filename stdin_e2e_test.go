//go:build linux

package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// An EMR can hand over patient details and URLs on standard input, so they
// never appear in a process list.
func TestOpenAndURLFromStandardInput(t *testing.T) {
	w := newWorld(t)
	w.setKey("AU")
	w.startTray()
	req := `{"email":"dr.stdin@clinic.example","user_id":"9","patient":{"id":"P-77","name":"Stdin Patient","dob":"1970-01-02"}}`
	r := w.cli(req, "open", "--json", "-")
	var res struct {
		Status   string `json:"status"`
		LaunchID string `json:"launch_id"`
	}
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &res) != nil || res.Status != "opened" || res.LaunchID == "" {
		t.Fatalf("open --json -: %+v", r)
	}
	w.waitBrowser(1)
	if calls := w.fake.Calls(); len(calls) != 1 || calls[0].Email != "dr.stdin@clinic.example" {
		t.Fatalf("JWT calls: %+v", calls)
	}
	for _, bad := range []struct {
		stdin string
		args  []string
		want  string
	}{
		{req, []string{"open", "--json", "-", "--email", "x@clinic.example"}, "without --email"},
		{req, []string{"open", "-"}, "unexpected argument"},
		{`{"email":"dr.stdin@clinic.example","user_id":"9","surprise":1}`, []string{"open", "--json", "-"}, "surprise"},
		{strings.Repeat(" ", 70<<10), []string{"open", "--json", "-"}, "larger than"},
		{"https://evil.example/\n", []string{"url", "-"}, "not a heidi-tray:// URL"},
	} {
		if r := w.cli(bad.stdin, bad.args...); r.code != 2 || !strings.Contains(r.stderr, bad.want) {
			t.Errorf("%v: %+v, want exit 2 and %q", bad.args, r, bad.want)
		}
	}
	// The bound clinician's URL, read from standard input.
	r = w.cli("heidi-tray://open?email=dr.stdin%40clinic.example&user_id=9&patient_id=P-78&patient_name=Other\n", "url", "-")
	if r.code != 0 || !strings.Contains(r.stdout, "opening") {
		t.Fatalf("url -: %+v", r)
	}
}
