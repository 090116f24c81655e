//go:build !windows && !darwin

package clipboard

import (
	"bytes"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/heidi-tray/heidi-tray/launcher/testrig"
)

func xclipOut(t *testing.T, target string) string {
	t.Helper()
	args := []string{"-o", "-selection", "clipboard"}
	if target != "" {
		args = append(args, "-t", target)
	}
	out, err := exec.Command("xclip", args...).Output()
	if err != nil {
		t.Fatalf("xclip %s: %v", strings.Join(args, " "), err)
	}
	return string(out)
}

// A real X server (Xvfb) and a real reader (xclip): the note is offered as
// text and marked x-kde-passwordManagerHint = "secret", which clipboard
// managers honour by keeping it out of their history; a note larger than
// one X request arrives whole (INCR); a second note replaces the first;
// another program taking the clipboard ends the tray's part, as does
// Release. No goroutine is left.
func TestX11ClipboardIsMarkedSensitive(t *testing.T) {
	defer goleak.VerifyNone(t)
	t.Setenv("DISPLAY", testrig.Xvfb(t))
	t.Setenv("WAYLAND_DISPLAY", "")
	testrig.Need(t, "xclip", "xclip")
	defer Release()

	note := "Subjective: cough ✓ — 3 days\n"
	if err := Copy(note); err != nil {
		t.Fatal(err)
	}
	targets := strings.Fields(xclipOut(t, "TARGETS"))
	for _, want := range []string{"x-kde-passwordManagerHint", "UTF8_STRING", "text/plain;charset=utf-8", "TIMESTAMP"} {
		if !slices.Contains(targets, want) {
			t.Errorf("the clipboard does not offer %s: %v", want, targets)
		}
	}
	if got := xclipOut(t, "x-kde-passwordManagerHint"); got != "secret" {
		t.Errorf("x-kde-passwordManagerHint = %q, want secret", got)
	}
	for _, target := range []string{"", "UTF8_STRING", "text/plain;charset=utf-8"} {
		if got := xclipOut(t, target); got != note {
			t.Errorf("target %q: %q, want %q", target, got, note)
		}
	}
	if ts := xclipOut(t, "TIMESTAMP"); ts == "" {
		t.Error("TIMESTAMP answered empty")
	}
	if err := exec.Command("xclip", "-o", "-selection", "clipboard", "-t", "image/png").Run(); err == nil {
		t.Error("a target not offered was answered")
	}
	// STRING is Latin-1: offered converted when the note is Latin-1, never
	// handed out altered when it is not.
	if slices.Contains(targets, "STRING") {
		t.Errorf("STRING offered for a note with a non-Latin-1 character: %v", targets)
	}
	if err := exec.Command("xclip", "-o", "-selection", "clipboard", "-t", "STRING").Run(); err == nil {
		t.Error("STRING was answered for a note that is not Latin-1")
	}
	if err := Copy("Dosis: 5 µg, café"); err != nil {
		t.Fatal(err)
	}
	if got := xclipOut(t, "STRING"); got != "Dosis: 5 \xb5g, caf\xe9" {
		t.Errorf("STRING: %q, want Latin-1 bytes", got)
	}

	// Notes pushed at the same moment take turns: the clipboard ends up
	// with one of them, whole and marked; none is copied unmarked.
	var wg sync.WaitGroup
	errs := make(chan error, 6)
	for i := range 6 {
		wg.Add(1)
		go func() { defer wg.Done(); errs <- Copy(fmt.Sprintf("note %d", i)) }()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("a concurrent copy failed: %v", err)
		}
	}
	if got := xclipOut(t, ""); !strings.HasPrefix(got, "note ") {
		t.Errorf("after concurrent copies the clipboard holds %q", got)
	}
	if got := xclipOut(t, "x-kde-passwordManagerHint"); got != "secret" {
		t.Errorf("after concurrent copies the note is not marked: %q", got)
	}

	big := strings.Repeat("Plan: review in two weeks. ", 12000) // 324 KB: more than one request
	if err := Copy(big); err != nil {
		t.Fatal(err)
	}
	if got := xclipOut(t, ""); got != big {
		t.Fatalf("the large note arrived as %d bytes, want %d", len(got), len(big))
	}
	if got := xclipOut(t, "x-kde-passwordManagerHint"); got != "secret" {
		t.Errorf("the large note is not marked: %q", got)
	}

	owned.Lock()
	o := owned.cur
	owned.Unlock()
	take := exec.Command("xclip", "-selection", "clipboard", "-loops", "1")
	take.Stdin = bytes.NewReader([]byte("another program's text"))
	if err := take.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { take.Process.Kill(); take.Wait() }()
	select {
	case <-o.done:
	case <-time.After(10 * time.Second):
		t.Fatal("the tray kept serving after another program took the clipboard")
	}
	if got := xclipOut(t, ""); got != "another program's text" {
		t.Fatalf("the clipboard holds %q", got)
	}
	take.Wait()

	if err := Copy(note); err != nil {
		t.Fatal(err)
	}
	Release()
	if err := exec.Command("xclip", "-o", "-selection", "clipboard").Run(); err == nil {
		t.Fatal("the clipboard is still served after Release")
	}
}
