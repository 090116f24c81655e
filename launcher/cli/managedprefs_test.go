//go:build !windows

package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"howett.net/plist"

	"github.com/heidi-tray/heidi-tray/launcher/config"
)

func TestManagedPreferencesAsPolicy(t *testing.T) {
	dir := t.TempDir()
	device := filepath.Join(dir, "device.plist")
	userFile := filepath.Join(dir, "user.plist")
	bin, _ := plist.Marshal(map[string]any{"region": "UK", "allowed_email_domains": []any{"clinic.example", "other.example"}, "port": uint64(47000), "disabled": false}, plist.BinaryFormat)
	os.WriteFile(device, bin, 0o644)
	xml, _ := plist.Marshal(map[string]any{"environment": "staging", "region": "EU"}, plist.XMLFormat)
	os.WriteFile(userFile, xml, 0o644)
	c, err := config.Load("", []string{"HEIDI_TRAY_REGION=US"}, managedPrefs{files: []string{device, userFile, filepath.Join(dir, "missing.plist")}})
	if err != nil {
		t.Fatal(err)
	}
	if c.Region != "EU" || c.Environment != "staging" || c.Port != 47000 || len(c.AllowedEmailDomains) != 2 || c.Sources["region"].Kind != "policy" {
		t.Fatalf("%+v %+v", c.Settings, c.Sources["region"])
	}
	os.WriteFile(userFile, []byte("not a plist"), 0o644)
	c, err = config.Load("", nil, managedPrefs{files: []string{userFile}})
	if err != nil || len(c.Warnings) != 1 || !strings.Contains(c.Warnings[0], "administrator's policy") {
		t.Fatalf("a broken managed preferences file: %v %q", err, c.Warnings)
	}
}

// A configuration profile's own Payload* keys are skipped, a whole-number
// real is a number, and one bad value does not throw away the others.
func TestManagedPreferencesFromAProfile(t *testing.T) {
	f := filepath.Join(t.TempDir(), "profile.plist")
	data, _ := plist.Marshal(map[string]any{
		"PayloadIdentifier": "com.example.heidi", "PayloadUUID": "5A1D", "PayloadType": "org.heidi-tray.heidi-tray",
		"PayloadVersion": uint64(1), "PayloadDisplayName": "Heidi", "PayloadEnabled": true,
		"port": float64(47000), "region": "UK", "browser": map[string]any{"nested": "dict"}, "autostart": 1.5,
	}, plist.XMLFormat)
	os.WriteFile(f, data, 0o644)
	c, err := config.Load("", nil, managedPrefs{files: []string{f}})
	if err != nil {
		t.Fatal(err)
	}
	if c.Port != 47000 || c.Region != "UK" || c.Sources["port"].Kind != "policy" {
		t.Fatalf("%+v", c.Settings)
	}
	w := strings.Join(c.Warnings, "\n")
	if strings.Contains(w, "Payload") || !strings.Contains(w, "browser has an unsupported type") || !strings.Contains(w, "autostart 1.5 is not a whole number") {
		t.Fatalf("warnings:\n%s", w)
	}
}

// Through CFPreferences only forced values are policy: a value the user set
// with 'defaults write' in the same domain is not.
func TestForcedManagedPreferencesOnly(t *testing.T) {
	values := map[string]any{"region": "EU", "port": float64(47001), "disabled": true, "allowed_email_domains": []any{"clinic.example"}}
	forced := map[string]bool{"region": true, "port": true, "allowed_email_domains": true}
	src := forcedPrefs{domain: "org.heidi-tray.heidi-tray", keys: config.Keys(), lookup: func(k string) ([]byte, bool) {
		v, ok := values[k]
		if !ok {
			return nil, false
		}
		data, err := plist.Marshal(v, plist.XMLFormat)
		if err != nil {
			t.Fatal(err)
		}
		return data, forced[k]
	}}
	c, err := config.Load("", nil, src)
	if err != nil {
		t.Fatal(err)
	}
	if c.Region != "EU" || c.Port != 47001 || c.Disabled || len(c.AllowedEmailDomains) != 1 || c.Sources["region"].Where != "managed preferences org.heidi-tray.heidi-tray" {
		t.Fatalf("%+v %+v (the unforced 'disabled' must not apply)", c.Settings, c.Sources["region"])
	}
	if len(c.Warnings) != 0 {
		t.Fatalf("warnings %q", c.Warnings)
	}
}
