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
