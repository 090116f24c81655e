package tokenservice

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func TestConfigRefusals(t *testing.T) {
	dir := t.TempDir()
	write := func(body string) string {
		p := filepath.Join(dir, "c.json")
		os.WriteFile(p, []byte(body), 0o600)
		return p
	}
	base := `"tls_cert":"c","tls_key":"k","keytab":"kt","keys_file":"keys","audit_log":"a"`
	cases := map[string]string{
		`{` + base + `}`:                                            "identity must be",
		`{` + base + `,"identity":"personal"}`:                      "needs email_rule",
		`{` + base + `,"identity":"personal","email_rule":"x@y.z"}`: "must contain {user}",
		`{` + base + `,"identity":"shared"}`:                        "needs allowed_email_domains",
		`{` + base + `,"identity":"shared","allowed_email_domains":["clinic.example"],"surprise":1}`:                    "unknown field",
		`{"identity":"shared","allowed_email_domains":["clinic.example"]}`:                                              "tls_cert and tls_key are required",
		`{` + base + `,"identity":"shared","allowed_email_domains":["clinic.example"],"keys_source":"keychain"}`:        "exclude each other",
		`{` + base + `,"identity":"shared","allowed_email_domains":["clinic.example"],"keys_source":"vault"}`:           "keys_source must be",
		`{` + base + `,"identity":"shared","allowed_email_domains":["clinic.example"],"api_base":"http://example.com"}`: "non-loopback",
	}
	for body, want := range cases {
		_, err := LoadConfig(write(body))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err %v, want %q", body, err, want)
		}
	}
	c, err := LoadConfig(write(`{` + base + `,"identity":"personal","email_rule":"{user}@clinic.example"}`))
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen != ":8443" || c.PerPrincipalPerMinute != 20 || c.GlobalPerMinute != 600 || c.MaxClockSkew != 300 {
		t.Fatalf("defaults: %+v", c)
	}
}

func TestKeysFileMustBePrivate(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("on Windows the keys file's ACL is the control, not mode bits")
	}
	dir := t.TempDir()
	p := filepath.Join(dir, "keys.json")
	os.WriteFile(p, []byte(`{"AU":"test-key-AU-0123456789"}`), 0o644)
	_, err := openKeyFile(p)
	if err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("a world-readable keys file: %v", err)
	}
	os.Chmod(p, 0o600)
	if _, err := openKeyFile(p); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(p, []byte(`{"AU":"test-key-AU-0123456789",`), 0o600)
	_, err = openKeyFile(p)
	if err == nil || strings.Contains(err.Error(), "test-key") {
		t.Fatalf("a broken keys file must be refused without quoting the key: %v", err)
	}
	os.WriteFile(p, []byte(`{"XX":"test-key-AU-0123456789"}`), 0o600)
	if _, err := openKeyFile(p); err == nil || !strings.Contains(err.Error(), "not a Heidi region") {
		t.Fatalf("unknown region: %v", err)
	}
}
