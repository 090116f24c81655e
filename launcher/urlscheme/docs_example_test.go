//go:build !windows

// (The Windows test binary runs under Wine, which has no python3; the
// example is the same on every OS.)

package urlscheme

import (
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/heidi-tray/heidi-tray/launcher/testrig"
)

// The Python signing example in docs/url-scheme.md runs, and the tray
// accepts the URL it makes (with a number for user_id, which once crashed it).
func TestDocsPythonExampleSignsURLsTheTrayAccepts(t *testing.T) {
	python, err := exec.LookPath("python3")
	if err != nil {
		testrig.Missing(t, "python3", err)
	}
	doc, err := os.ReadFile("../../docs/url-scheme.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(doc), "<!-- test: run by launcher/urlscheme's tests")
	_, rest, ok2 := strings.Cut(rest, "```python\n")
	code, _, ok3 := strings.Cut(rest, "```")
	if !ok || !ok2 || !ok3 {
		t.Fatal("docs/url-scheme.md: the Python example is not where the test looks")
	}
	secret := "clinic-launch-secret-0123456789abcdef"
	script := code + "\nprint(heidi_tray_url('open', {'email': 'dr.b@clinic.example', 'user_id': 42, 'patient_id': 'P-1', 'patient_name': 'Zoë O\\'Brien & Co'}, b'" + secret + "'))\n"
	out, err := exec.Command(python, "-c", script).CombinedOutput()
	if err != nil {
		t.Fatalf("the docs' Python example failed: %v\n%s", err, out)
	}
	u, err := Parse(strings.TrimSpace(string(out)), "AU")
	if err != nil {
		t.Fatal(err)
	}
	if err := Verify(u, []byte(secret), time.Now(), &Nonces{}); err != nil {
		t.Fatalf("the tray refuses the docs' URL: %v (%s)", err, out)
	}
	if u.Open.UserID != "42" || u.Open.Patient.Name != "Zoë O'Brien & Co" {
		t.Fatalf("parsed %+v", u.Open)
	}
}
