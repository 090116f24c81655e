package browser

import "testing"

// On a Mac, the Opener itself (not just the command builder) goes through
// LaunchServices for both the app window and the default browser. The
// recorder stands in for open(1), so no real browser starts.
func TestDarwinOpenerUsesLaunchServicesOnly(t *testing.T) {
	for _, setting := range []string{"app", "default"} {
		o, r := macOpener()
		o.setting = setting
		if err := o.Open(page); err != nil {
			t.Fatal(err)
		}
		o.Wait()
		if len(r.calls) != 1 {
			t.Fatalf("%s: %q", setting, r.calls)
		}
		neverExecsAnApp(t, r.calls)
	}
}
