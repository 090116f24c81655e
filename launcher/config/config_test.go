package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

type fakePolicy map[string]string

func (p fakePolicy) Policy() (map[string]string, string, error) { return p, "test policy", nil }

func write(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "config.toml")
	os.WriteFile(p, []byte(body), 0o600)
	return p
}

func TestPrecedence(t *testing.T) {
	file := write(t, `# comment
region = "eu"          # trailing comment
port = 4711
browser = 'firefox --new-window'
allowed_email_domains = ["clinic.example", "Other.Example"]
clipboard = false
`)
	env := []string{"HEIDI_TRAY_PORT=5000", "HEIDI_TRAY_ENVIRONMENT=staging", "UNRELATED=1", "HEIDI_TRAY_CONFIG=/x"}
	c, err := Load(file, env, fakePolicy{"region": "UK"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][2]string{
		"region":                {"UK", "policy"},
		"port":                  {"5000", "env"},
		"environment":           {"staging", "env"},
		"browser":               {"firefox --new-window", "file"},
		"allowed_email_domains": {"clinic.example,other.example", "file"},
		"clipboard":             {"false", "file"},
		"log_level":             {"info", "default"},
	}
	for k, w := range want {
		if got := c.Value(k); got != w[0] || c.Sources[k].Kind != w[1] {
			t.Errorf("%s = %q from %s, want %q from %s", k, got, c.Sources[k].Kind, w[0], w[1])
		}
	}
	if c.Sources["browser"].Where != file+":4" || c.Sources["port"].Where != "HEIDI_TRAY_PORT" {
		t.Errorf("provenance: %+v %+v", c.Sources["browser"], c.Sources["port"])
	}
}

func TestMissingFileIsDefaults(t *testing.T) {
	c, err := Load(filepath.Join(t.TempDir(), "none.toml"), nil, nil)
	if err != nil || c.Region != "AU" || c.Environment != "production" || c.Browser != "app" || !c.Clipboard {
		t.Fatalf("%v %+v", err, c.Settings)
	}
}

func TestBadSettingsAreWarningsWithFileAndLine(t *testing.T) {
	cases := map[string]string{
		"region = \"AU\"\nregoin = \"EU\"\n":   ":2: unknown setting \"regoin\"",
		"\n\nport = 80\n":                      ":3: port: must be 0 or a port from 1024 to 65535",
		"region = AU\n":                        ":1: not valid TOML",
		"region = \"NZ\"\n":                    ":1: region: region: \"NZ\" is not a Heidi region",
		"region\n":                             ":1: not valid TOML",
		"region = \"AU\"\nregion = \"EU\"\n":   ":2: not valid TOML",
		"api_base = \"http://evil.example\"\n": ":1: api_base: api_base \"http://evil.example\" uses plain http",
		"region = \"AU\" junk\n":               ":1: not valid TOML",
		"clipboard = \"yes\"\n":                ":1: clipboard: must be true or false",
		"product_name = \"unterminated\n":      ":1: not valid TOML",
		"port = 4.5\n":                         ":1: port: 4.5 is not a string",
		"[section]\nregion = \"EU\"\n":         ":1: unknown setting \"section\"",
		"widget_script = \"http://127.0.0.1.evil.example/heidi.js\"\n": ":1: widget_script: must be an https URL",
		"widget_script = \"//evil.example/heidi.js\"\n":                ":1: widget_script: must be an https URL",
	}
	for body, want := range cases {
		file := write(t, body)
		c, err := Load(file, nil, nil)
		if err != nil {
			t.Fatalf("%q: a bad setting stopped loading: %v", body, err)
		}
		if !strings.Contains(strings.Join(c.Warnings, "\n"), file+want) {
			t.Errorf("%q: warnings %q, want %s%s", body, c.Warnings, file, want)
		}
		// Whatever was wrong, the settings that apply are the safe defaults.
		if c.Region != "AU" || c.Port != 0 || c.APIBase != "" || !c.Clipboard || c.WidgetScript != "" {
			t.Errorf("%q: a rejected value was applied: %+v", body, c.Settings)
		}
	}
}

// Real TOML, which the old hand-written parser refused.
func TestFullTOML(t *testing.T) {
	file := write(t, `# clinic settings
"region" = "eu"
allowed_email_domains = [
  "clinic.example", # the main practice ] with a bracket in a comment
  "branch.example",
]
product_name = """Practice EMR"""
port = 4_711
`)
	c, err := Load(file, nil, nil)
	if err != nil || len(c.Warnings) > 0 {
		t.Fatalf("%v %q", err, c.Warnings)
	}
	if c.Region != "EU" || c.Port != 4711 || c.ProductName != "Practice EMR" || strings.Join(c.AllowedEmailDomains, ",") != "clinic.example,branch.example" {
		t.Fatalf("%+v", c.Settings)
	}
	if c.Sources["allowed_email_domains"].Where != file+":3" || c.Sources["port"].Where != file+":8" {
		t.Fatalf("provenance %+v %+v", c.Sources["allowed_email_domains"], c.Sources["port"])
	}
}

func TestRestrictionsFailClosed(t *testing.T) {
	c, _ := Load("", nil, fakePolicy{"allowed_email_domains": "clinic.example, not a domain", "disabled": "maybe"})
	if strings.Join(c.AllowedEmailDomains, ",") != "clinic.example" {
		t.Errorf("a partly bad domain list: %v", c.AllowedEmailDomains)
	}
	if !c.Disabled {
		t.Error("an unreadable kill switch left heidi-tray on")
	}
	c, _ = Load("", nil, fakePolicy{"allowed_email_domains": "not a domain"})
	if len(c.AllowedEmailDomains) != 1 || c.AllowedEmailDomains[0] != NoDomain {
		t.Errorf("an unreadable domain list allowed: %v", c.AllowedEmailDomains)
	}
	if len(c.Warnings) != 1 || !strings.Contains(c.Warnings[0], "policy (test policy) allowed_email_domains") {
		t.Errorf("warnings %q", c.Warnings)
	}
}

func TestBadEnvAndPolicyAreWarnings(t *testing.T) {
	c, err := Load("", []string{"HEIDI_TRAY_REGION=mars"}, nil)
	if err != nil || c.Region != "AU" || len(c.Warnings) != 1 || !strings.Contains(c.Warnings[0], "HEIDI_TRAY_REGION") {
		t.Fatalf("env: %v %q", err, c.Warnings)
	}
	// A newer ADMX may set values this version does not know: launches go on.
	c, err = Load("", nil, fakePolicy{"api_base": "https://x.example", "future_setting": "1", "region": "UK"})
	if err != nil || c.APIBase != "" || c.Region != "UK" || len(c.Warnings) != 2 || !strings.Contains(c.Warnings[0], "not a setting this version") {
		t.Fatalf("policy: %v %+v %q", err, c.Settings, c.Warnings)
	}
}

func TestTemplateLoads(t *testing.T) {
	file := write(t, Template())
	if _, err := Load(file, nil, nil); err != nil {
		t.Fatalf("the commented template does not load: %v", err)
	}
	// Uncommented, every default line parses too.
	var b strings.Builder
	for _, l := range strings.Split(Template(), "\n") {
		if strings.HasPrefix(l, "# ") && strings.Contains(l, " = ") {
			l = strings.TrimPrefix(l, "# ")
		}
		b.WriteString(l + "\n")
	}
	if _, err := Load(write(t, b.String()), nil, nil); err != nil {
		t.Fatalf("uncommented template: %v", err)
	}
}

func TestSetInFileKeepsComments(t *testing.T) {
	file := write(t, "# my clinic\nregion = \"AU\" # was AU\n# port = 0\n")
	if err := SetInFile(file, "region", "UK"); err != nil {
		t.Fatal(err)
	}
	if err := SetInFile(file, "environment", "staging"); err != nil {
		t.Fatal(err)
	}
	if err := SetInFile(file, "region", "XX"); err == nil {
		t.Fatal("an invalid value was written")
	}
	data, _ := os.ReadFile(file)
	if string(data) != "# my clinic\nregion = \"UK\"\n# port = 0\nenvironment = \"staging\"\n" {
		t.Fatalf("file:\n%s", data)
	}
	c, err := Load(file, nil, nil)
	if err != nil || c.Region != "UK" || c.Environment != "staging" {
		t.Fatal(err, c)
	}
}

func TestTokenSourceSettings(t *testing.T) {
	c, _ := Load("", nil, fakePolicy{"token_source": "Service", "token_service_urls": "https://t1.clinic.example:8443, https://t2.clinic.example",
		"token_service_spn": "HTTP/tokens.clinic.example"})
	if len(c.Warnings) != 0 || c.TokenSource != "service" || len(c.TokenServiceURLs) != 2 || c.TokenServiceSPN != "HTTP/tokens.clinic.example" ||
		c.Sources["token_source"].Kind != "policy" {
		t.Fatalf("policy: %+v %v", c.Settings, c.Warnings)
	}
	for k, v := range map[string]string{
		"token_source":       "vault",
		"token_service_urls": "http://tokens.clinic.example",
		"token_service_spn":  "tokens.clinic.example",
		"token_service_ca":   "relative/ca.pem",
		"token_command":      "get-token --for me",
	} {
		c, _ := Load("", nil, fakePolicy{k: v})
		if len(c.Warnings) != 1 || !strings.Contains(c.Warnings[0], k) {
			t.Errorf("%s=%q: warnings %v", k, v, c.Warnings)
		}
	}
	if c, _ := Load("", nil, nil); c.TokenSource != "keychain" {
		t.Fatalf("default token_source %q", c.TokenSource)
	}
}

// Prefetch is on by default; a policy turns it off, also when the policy's
// value cannot be read. renew_hours and memory_limit_mib are bounded.
func TestPrefetchRenewAndMemorySettings(t *testing.T) {
	c, err := Load("", nil, nil)
	if err != nil || !c.Prefetch || c.RenewHours != 4 || c.MemoryLimitMiB != 32 {
		t.Fatalf("defaults: prefetch %v renew %d memory %d %v", c.Prefetch, c.RenewHours, c.MemoryLimitMiB, err)
	}
	for _, v := range []string{"false", "nonsense"} {
		c, _ := Load("", []string{"HEIDI_TRAY_PREFETCH=true"}, fakePolicy{"prefetch": v})
		if c.Prefetch {
			t.Errorf("policy prefetch=%q left prefetch on", v)
		}
	}
	c, _ = Load("", []string{"HEIDI_TRAY_RENEW_HOURS=48", "HEIDI_TRAY_MEMORY_LIMIT_MIB=8"}, nil)
	if c.RenewHours != 4 || c.MemoryLimitMiB != 32 || len(c.Warnings) != 2 {
		t.Errorf("out-of-bounds values: renew %d memory %d warnings %q", c.RenewHours, c.MemoryLimitMiB, c.Warnings)
	}
}
