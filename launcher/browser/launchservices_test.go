//go:build !windows

package browser

import (
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
)

// launchRecorder stands in for open(1): it records each argv and fails for
// the bundle ids in missing, as open does for an app that is not installed.
type launchRecorder struct {
	mu      sync.Mutex
	calls   [][]string
	missing map[string]bool
}

func (r *launchRecorder) launch(argv []string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, slices.Clone(argv))
	if i := slices.Index(argv, "-b"); i >= 0 && r.missing[argv[i+1]] {
		return errors.New("Unable to find application with identifier " + argv[i+1])
	}
	return nil
}

// neverExecsAnApp fails when a command runs anything but open(1), or names
// a program inside an app bundle: that would make the browser a child of
// heidi-tray, and macOS would charge its microphone prompt to heidi-tray.
func neverExecsAnApp(t *testing.T, calls [][]string) {
	t.Helper()
	for _, c := range calls {
		if c[0] != OpenTool {
			t.Errorf("%q runs %s directly, not through LaunchServices", c, c[0])
		}
		for _, a := range c {
			if strings.Contains(a, ".app/") || strings.Contains(a, "Contents/MacOS") {
				t.Errorf("%q names an app's binary", c)
			}
		}
	}
}

func macOpener(missing ...string) (*Opener, *launchRecorder) {
	r := &launchRecorder{missing: map[string]bool{}}
	for _, m := range missing {
		r.missing[m] = true
	}
	o := New("app", "", slog.New(slog.DiscardHandler))
	o.launch = r.launch
	return o, r
}

const page = "http://127.0.0.1:5000/launch?code=x&y=1"

func TestMacAppWindowOpensThroughLaunchServices(t *testing.T) {
	o, r := macOpener()
	if err := o.openAppLS(page); err != nil {
		t.Fatal(err)
	}
	o.Wait()
	want := [][]string{{"/usr/bin/open", "-n", "-b", "com.google.Chrome", "--args", "--app=" + page}}
	if !slices.EqualFunc(r.calls, want, slices.Equal) {
		t.Fatalf("commands %q, want %q", r.calls, want)
	}
	neverExecsAnApp(t, r.calls)
}

func TestMacAppWindowFallsBackToEdgeThenTheDefaultBrowser(t *testing.T) {
	o, r := macOpener("com.google.Chrome")
	o.openAppLS(page)
	o.Wait()
	if len(r.calls) != 2 || r.calls[1][3] != "com.microsoft.edgemac" || r.calls[1][5] != "--app="+page {
		t.Fatalf("without Chrome: %q", r.calls)
	}
	neverExecsAnApp(t, r.calls)

	o, r = macOpener("com.google.Chrome", "com.microsoft.edgemac")
	o.openAppLS(page)
	o.Wait()
	if len(r.calls) != 3 || !slices.Equal(r.calls[2], []string{"/usr/bin/open", page}) {
		t.Fatalf("with neither browser: %q", r.calls)
	}
	neverExecsAnApp(t, r.calls)
}

func TestMacDefaultBrowserOpensThroughLaunchServices(t *testing.T) {
	o, r := macOpener()
	o.openDefaultLS(page)
	o.Wait()
	if len(r.calls) != 1 || !slices.Equal(r.calls[0], []string{"/usr/bin/open", page}) {
		t.Fatalf("commands %q", r.calls)
	}
}

// The URL reaches open(1) as one argument after --args, so no part of it
// can become an option of open itself.
func TestMacURLIsOneArgumentAfterArgs(t *testing.T) {
	argv := MacAppArgv("com.google.Chrome", "http://127.0.0.1:1/ -a Calculator")
	if i := slices.Index(argv, "--args"); i != 4 || len(argv) != 6 {
		t.Fatalf("%q", argv)
	}
}

// The real runner reports a failing helper with what it printed, which is
// how a missing bundle id shows up in the log.
func TestRunHelperReportsFailure(t *testing.T) {
	if err := runHelper([]string{"/bin/sh", "-c", "echo 'Unable to find application' >&2; exit 1"}); err == nil || !strings.Contains(err.Error(), "Unable to find application") {
		t.Fatalf("%v", err)
	}
	if err := runHelper([]string{"/bin/sh", "-c", "exit 0"}); err != nil {
		t.Fatal(err)
	}
}
