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

func TestBadFilesNameFileAndLine(t *testing.T) {
	cases := map[string]string{
		"region = \"AU\"\nregoin = \"EU\"\n":   ":2: unknown setting \"regoin\"",
		"\n\nport = 80\n":                      ":3: port: must be 0 or a port from 1024 to 65535",
		"region = AU\n":                        ":1: region: \"AU\" is not a quoted string",
		"region = \"NZ\"\n":                    ":1: region: region: \"NZ\" is not a Heidi region",
		"region\n":                             ":1: expected key = value",
		"region = \"AU\"\nregion = \"EU\"\n":   ":2: region is already set on line 1",
		"api_base = \"http://evil.example\"\n": ":1: api_base: api_base \"http://evil.example\" uses plain http",
		"region = \"AU\" junk\n":               ":1: region: unexpected \"junk\"",
		"allowed_email_domains = [\"a b\"]\n":  ":1: allowed_email_domains: \"a b\" is not a domain",
		"clipboard = \"yes\"\n":                ":1: clipboard: must be true or false",
		"product_name = \"unterminated\n":      ":1: product_name: string is missing its closing quote",
	}
	for body, want := range cases {
		file := write(t, body)
		_, err := Load(file, nil, nil)
		if err == nil || !strings.Contains(err.Error(), file+want) {
			t.Errorf("%q: got %v, want %s%s", body, err, file, want)
		}
	}
}

func TestBadEnvAndPolicy(t *testing.T) {
	if _, err := Load("", []string{"HEIDI_TRAY_REGION=mars"}, nil); err == nil || !strings.Contains(err.Error(), "HEIDI_TRAY_REGION") {
		t.Fatalf("env: %v", err)
	}
	if _, err := Load("", nil, fakePolicy{"api_base": "https://x.example"}); err == nil || !strings.Contains(err.Error(), "not a setting an administrator can set") {
		t.Fatalf("policy api_base: %v", err)
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
