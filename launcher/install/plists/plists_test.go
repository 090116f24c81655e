package plists

import (
	"testing"

	"howett.net/plist"
)

func parse(t *testing.T, data []byte) map[string]any {
	t.Helper()
	var v map[string]any
	if _, err := plist.Unmarshal(data, &v); err != nil {
		t.Fatalf("not a valid plist: %v\n%s", err, data)
	}
	return v
}

func TestInfoPlist(t *testing.T) {
	v := parse(t, InfoPlist("1.2.3"))
	for k, want := range map[string]any{"CFBundleIdentifier": BundleID, "CFBundleShortVersionString": "1.2.3", "CFBundleExecutable": "heidi-tray", "LSUIElement": true, "CFBundlePackageType": "APPL", "LSMinimumSystemVersion": "12.0"} {
		if v[k] != want {
			t.Errorf("%s = %v, want %v", k, v[k], want)
		}
	}
	types, _ := v["CFBundleURLTypes"].([]any)
	if len(types) != 1 {
		t.Fatalf("CFBundleURLTypes %v", v["CFBundleURLTypes"])
	}
	schemes, _ := types[0].(map[string]any)["CFBundleURLSchemes"].([]any)
	if len(schemes) != 1 || schemes[0] != "heidi-tray" {
		t.Fatalf("URL schemes %v", schemes)
	}
}

func TestLaunchAgent(t *testing.T) {
	exe := `/Applications/Heidi & <Co>/heidi-tray.app/Contents/MacOS/heidi-tray`
	v := parse(t, LaunchAgent(exe))
	args, _ := v["ProgramArguments"].([]any)
	if v["Label"] != BundleID || v["RunAtLoad"] != true || len(args) != 2 || args[0] != exe || args[1] != "run" {
		t.Fatalf("LaunchAgent %v", v)
	}
}

func TestBundleVersionIsNumeric(t *testing.T) {
	for in, want := range map[string]string{"1.2.3": "1.2.3", "0.4.0-rc1+g1a2b3c": "0.4.0", "2.0+dirty": "2.0", "7": "7"} {
		v := parse(t, InfoPlist(in))
		if v["CFBundleVersion"] != want || v["CFBundleShortVersionString"] != want {
			t.Errorf("%s: %v / %v, want %s", in, v["CFBundleVersion"], v["CFBundleShortVersionString"], want)
		}
	}
}
