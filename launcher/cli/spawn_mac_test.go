package cli

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"
)

// From inside the bundle the tray is launched by LaunchServices, never by
// exec'ing the bundle's binary (the EMR would become its responsible
// process); a bare developer binary is exec'd.
func TestMacTraySpawnGoesThroughLaunchServices(t *testing.T) {
	argv, ls := macSpawnArgv("/Applications/heidi-tray.app/Contents/MacOS/heidi-tray")
	if !ls || !slices.Equal(argv, []string{"/usr/bin/open", "-g", "-a", "/Applications/heidi-tray.app"}) {
		t.Fatalf("bundle: %q %v", argv, ls)
	}
	argv, ls = macSpawnArgv("/Users/dr a/Applications/My heidi.app/Contents/MacOS/heidi-tray")
	if !ls || argv[3] != "/Users/dr a/Applications/My heidi.app" {
		t.Fatalf("bundle with spaces: %q", argv)
	}
	for _, exe := range []string{"/usr/local/bin/heidi-tray", "/tmp/Contents/MacOS/heidi-tray", "/x.app/MacOS/heidi-tray"} {
		argv, ls = macSpawnArgv(exe)
		if ls || !slices.Equal(argv, []string{exe, "run"}) {
			t.Fatalf("%s: %q %v", exe, argv, ls)
		}
	}
}

// macOS passes -psn_0_… to an app opened from the Finder or after the
// Gatekeeper dialog; it must not be taken for an (unknown) command.
func TestProcessSerialArgumentIgnored(t *testing.T) {
	var out, errOut bytes.Buffer
	code := Main(context.Background(), Env{Args: []string{"-psn_0_1234567", "version"}, Stdout: &out, Stderr: &errOut, Version: "9.9.9"})
	if code != ExitOK || !strings.HasPrefix(out.String(), "heidi-tray 9.9.9 ") {
		t.Fatalf("exit %d, out %q, err %q", code, out.String(), errOut.String())
	}
	if got := dropProcessSerial([]string{"-psn_0_1"}); len(got) != 0 {
		t.Fatalf("alone it leaves %q (should run the tray, as with no arguments)", got)
	}
	if code := Main(context.Background(), Env{Args: []string{"-psn"}, Stdout: &out, Stderr: &errOut}); code != ExitUsage {
		t.Fatalf("a look-alike argument is still refused: exit %d", code)
	}
}
