package notify

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// A message is data, never code: it reaches the helper only through its
// environment, so quotes, newlines and script syntax in it stay text.
func TestNotificationTextNeverInArgsOrScript(t *testing.T) {
	title := `Heidi launch refused'); Start-Process calc; ('`
	body := "dr\"x\" $(whoami) `n line\nend"
	for name, c := range map[string]command{"windows": windowsToast(title, body), "macos": macNotification(title, body)} {
		all := strings.Join(append(append([]string{c.name}, c.args...), c.stdin), "\n")
		if strings.Contains(all, "calc") || strings.Contains(all, "whoami") {
			t.Errorf("%s: the message reached the command line or script:\n%s", name, all)
		}
		env := strings.Join(c.env, "\n")
		if !strings.Contains(env, "HEIDI_TRAY_TOAST_TITLE="+title) || !strings.Contains(env, "HEIDI_TRAY_TOAST_BODY="+body) {
			t.Errorf("%s: the message is not in the environment: %q", name, c.env)
		}
	}
	if c := windowsToast("t", "b"); !strings.Contains(c.stdin, "$env:HEIDI_TRAY_TOAST_BODY") || c.args[len(c.args)-1] != "-" {
		t.Errorf("the toast script does not read the text from the environment via stdin: %q %q", c.args, c.stdin)
	}
}

func TestLongMessagesAreClipped(t *testing.T) {
	c := windowsToast(strings.Repeat("x", 5000), "b\xff")
	if len(c.env[0]) > len("HEIDI_TRAY_TOAST_TITLE=")+maxText+4 || !strings.HasSuffix(c.env[1], "b?") {
		t.Fatalf("env %q", c.env)
	}
}

// Cutting a long text never leaves half a character (macOS refuses a
// notification whose text is not UTF-8).
func TestClipKeepsUTF8(t *testing.T) {
	s := clip("a" + strings.Repeat("é", maxText))
	if !utf8.ValidString(s) || len(s) > maxText+len("…") {
		t.Fatalf("%q", s)
	}
}
