package install

import (
	"strings"
	"testing"
)

func TestTranslocatedAppIsNotStartedAtLogin(t *testing.T) {
	bad := "/private/var/folders/x7/abc/T/AppTranslocation/9F3C-11AA/d/heidi-tray.app/Contents/MacOS/heidi-tray"
	if err := CheckAgentTarget(bad); err == nil || !strings.Contains(err.Error(), "/Applications") {
		t.Fatalf("translocated path accepted or unclear: %v", err)
	}
	for _, ok := range []string{"/Applications/heidi-tray.app/Contents/MacOS/heidi-tray", "/Users/a/Applications/heidi-tray.app/Contents/MacOS/heidi-tray"} {
		if err := CheckAgentTarget(ok); err != nil {
			t.Fatalf("%s: %v", ok, err)
		}
	}
}
