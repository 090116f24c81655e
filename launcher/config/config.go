// Package config resolves heidi-tray's settings from, in rising precedence:
// built-in defaults, the user's config file, HEIDI_TRAY_<KEY> environment
// variables, and the administrator's policy. Every value is validated, and
// each setting remembers where it came from ('heidi-tray config').
package config

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pelletier/go-toml/v2"
	"github.com/pelletier/go-toml/v2/unstable"

	"github.com/heidi-tray/heidi-tray/launcher/heidiapi"
	"github.com/heidi-tray/heidi-tray/launcher/internal/atomicfile"
	"github.com/heidi-tray/heidi-tray/launcher/internal/loopback"
	"github.com/heidi-tray/heidi-tray/launcher/request"
)

// Settings are the effective settings.
type Settings struct {
	Region              string        // default region for launches: AU EU UK US CA
	Environment         string        // production | staging
	APIBase             string        // overrides the JWT endpoint's base URL
	Browser             string        // app | default | a command (the URL is appended)
	Port                int           // loopback port of the page server; 0 = chosen once and remembered
	WidgetScript        string        // overrides the widget SDK URL
	AllowedEmailDomains []string      // launches for other domains are refused
	Clipboard           bool          // copy pushed notes to the clipboard
	RequireSignedURLs   bool          // refuse every heidi-tray:// URL that is not signed
	ProductName         string        // shown by Heidi during sign-up
	LogLevel            string        // info | debug
	AckedNoteRetention  time.Duration // how long acknowledged notes stay on disk
	Autostart           bool          // install sets up start at login
	Disabled            bool          // an administrator's kill switch
	Prefetch            bool          // fetch the last clinician's token at start-up and resume
	RenewHours          int           // tokens are renewed while their clinician was active this recently
	MemoryLimitMiB      int           // the Go runtime's soft memory limit; 0 = none

	// Where JWTs come from (docs/token-service.md): keychain (the key is on
	// this machine), emr (the EMR passes them) or service (the clinic token
	// service, after Windows sign-in).
	TokenSource      string
	TokenServiceURLs []string // service: tried in order
	TokenServiceSPN  string   // service: Kerberos principal; default HTTP/<host of each URL>
	TokenServiceCA   string   // service: PEM file of a private CA
	TokenCommand     string   // emr: a program that prints a fresh token
}

// Source says where a setting's value came from.
type Source struct {
	Kind  string `json:"source"`          // default | file | env | policy
	Where string `json:"where,omitempty"` // file:line or variable name
}

// Config is the effective settings plus their provenance.
type Config struct {
	Settings
	Sources map[string]Source
	File    string // the config file consulted (may not exist)
	// Warnings are settings that were not applied: unknown keys (perhaps
	// from a newer version), values that fail validation, a file that is not
	// TOML. Each names its place and what to do. heidi-tray keeps running on
	// the safe value; 'heidi-tray config' and doctor show them.
	Warnings []string
}

type setting struct {
	key   string
	doc   string
	def   string
	apply func(s *Settings, v string) error
	show  func(s *Settings) string
	// onBad, when set, is what a rejected value leaves behind (fail closed
	// for restrictions); otherwise the value before it stays.
	onBad func(s *Settings, v string)
}

// NoDomain stands for "no domain is allowed": what an unreadable
// allowed_email_domains leaves (.invalid is reserved, RFC 2606).
const NoDomain = "unreadable-setting.invalid"

// all lists every setting once: name, meaning, default, parser.
var all = []setting{
	{"region", "default Heidi region (AU, EU, UK, US, CA)", "AU",
		func(s *Settings, v string) error {
			v = strings.ToUpper(v)
			if err := request.ValidateRegion(v); err != nil {
				return err
			}
			s.Region = v
			return nil
		}, func(s *Settings) string { return s.Region }, nil},
	{"environment", "production or staging", heidiapi.Production,
		func(s *Settings, v string) error {
			if v != heidiapi.Production && v != heidiapi.Staging {
				return fmt.Errorf("must be %q or %q", heidiapi.Production, heidiapi.Staging)
			}
			s.Environment = v
			return nil
		}, func(s *Settings) string { return s.Environment }, nil},
	{"api_base", "override of the JWT endpoint's base URL (https, or http to loopback)", "",
		func(s *Settings, v string) error {
			if v != "" {
				if err := heidiapi.ValidateBase(v); err != nil {
					return err
				}
			}
			s.APIBase = v
			return nil
		}, func(s *Settings) string { return s.APIBase }, nil},
	{"browser", "app (a chromeless Edge/Chrome window), default, or a command to which the URL is appended", "app",
		func(s *Settings, v string) error {
			if strings.TrimSpace(v) == "" {
				return errors.New("must be app, default or a command")
			}
			s.Browser = strings.TrimSpace(v)
			return nil
		}, func(s *Settings) string { return s.Browser }, nil},
	{"port", "loopback port of the widget page; 0 picks one on first run and keeps it", "0",
		func(s *Settings, v string) error {
			n, err := strconv.Atoi(v)
			if err != nil || n != 0 && (n < 1024 || n > 65535) {
				return errors.New("must be 0 or a port from 1024 to 65535")
			}
			s.Port = n
			return nil
		}, func(s *Settings) string { return strconv.Itoa(s.Port) }, nil},
	{"widget_script", "override of Heidi's widget script URL", "",
		func(s *Settings, v string) error {
			if v != "" && !validWidgetScript(v) {
				return errors.New("must be an https URL, a loopback http URL, or a path on the page server")
			}
			s.WidgetScript = v
			return nil
		}, func(s *Settings) string { return s.WidgetScript }, nil},
	{"allowed_email_domains", "clinician email domains allowed to launch (empty: any)", "",
		func(s *Settings, v string) error {
			var out []string
			for _, d := range strings.Split(v, ",") {
				d = strings.ToLower(strings.TrimSpace(d))
				if d == "" {
					continue
				}
				if request.ValidateEmail("x@"+d) != nil {
					return fmt.Errorf("%q is not a domain", d)
				}
				out = append(out, d)
			}
			s.AllowedEmailDomains = out
			return nil
		}, func(s *Settings) string { return strings.Join(s.AllowedEmailDomains, ",") },
		// A restriction that cannot be read must not become "any domain":
		// keep the entries that are domains; with none, refuse every launch.
		func(s *Settings, v string) {
			var out []string
			for _, d := range strings.Split(v, ",") {
				d = strings.ToLower(strings.TrimSpace(d))
				if d != "" && request.ValidateEmail("x@"+d) == nil {
					out = append(out, d)
				}
			}
			if len(out) == 0 {
				out = []string{NoDomain}
			}
			s.AllowedEmailDomains = out
		}},
	{"clipboard", "copy notes pushed from Heidi to the clipboard", "true",
		func(s *Settings, v string) error {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return errors.New("must be true or false")
			}
			s.Clipboard = b
			return nil
		}, func(s *Settings) string { return strconv.FormatBool(s.Clipboard) }, nil},
	{"require_signed_urls", "refuse every heidi-tray:// URL that is not signed with the launch secret", "false",
		func(s *Settings, v string) error {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return errors.New("must be true or false")
			}
			s.RequireSignedURLs = b
			return nil
		}, func(s *Settings) string { return strconv.FormatBool(s.RequireSignedURLs) },
		func(s *Settings, _ string) { s.RequireSignedURLs = true }}, // a restriction that cannot be read holds
	{"product_name", "the EMR's name, shown by Heidi during sign-up", "heidi-tray",
		func(s *Settings, v string) error {
			if len(v) == 0 || len(v) > 80 || strings.ContainsFunc(v, func(r rune) bool { return r < 0x20 }) {
				return errors.New("must be 1 to 80 printable characters")
			}
			s.ProductName = v
			return nil
		}, func(s *Settings) string { return s.ProductName }, nil},
	{"autostart", "start heidi-tray at login (install sets it up)", "true",
		func(s *Settings, v string) error {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return errors.New("must be true or false")
			}
			s.Autostart = b
			return nil
		}, func(s *Settings) string { return strconv.FormatBool(s.Autostart) }, nil},
	{"disabled", "turn heidi-tray off on this workstation (an administrator's kill switch)", "false",
		func(s *Settings, v string) error {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return errors.New("must be true or false")
			}
			s.Disabled = b
			return nil
		}, func(s *Settings) string { return strconv.FormatBool(s.Disabled) },
		func(s *Settings, _ string) { s.Disabled = true }}, // a kill switch that cannot be read is on
	{"acked_note_retention", "how long a note the EMR acknowledged stays on disk (0s: deleted at once; at most 720h)", "24h",
		func(s *Settings, v string) error {
			d, err := time.ParseDuration(v)
			if err != nil || d < 0 || d > 720*time.Hour {
				return errors.New("must be a duration from 0s to 720h, e.g. 24h")
			}
			s.AckedNoteRetention = d
			return nil
		}, func(s *Settings) string { return s.AckedNoteRetention.String() }, nil},
	{"token_source", "where JWTs come from: keychain (the API key is on this machine), emr (the EMR passes them) or service (the clinic token service)", "keychain",
		func(s *Settings, v string) error {
			switch v = strings.ToLower(strings.TrimSpace(v)); v {
			case "keychain", "emr", "service":
				s.TokenSource = v
				return nil
			}
			return errors.New("must be keychain, emr or service")
		}, func(s *Settings) string { return s.TokenSource }, nil},
	{"token_service_urls", "token_source service: the clinic token service's https URLs, comma-separated, tried in order", "",
		func(s *Settings, v string) error {
			var out []string
			for _, u := range strings.Split(v, ",") {
				if u = strings.TrimSpace(u); u == "" {
					continue
				}
				p, err := url.Parse(u)
				if err != nil || p.Scheme != "https" || p.Host == "" || p.User != nil || p.RawQuery != "" || p.Fragment != "" {
					return fmt.Errorf("%q is not a plain https:// URL", u)
				}
				out = append(out, u)
			}
			if len(out) > 10 {
				return errors.New("at most 10 URLs")
			}
			s.TokenServiceURLs = out
			return nil
		}, func(s *Settings) string { return strings.Join(s.TokenServiceURLs, ",") }, nil},
	{"token_service_spn", "token_source service: the service's Kerberos principal (default HTTP/<host of each URL>)", "",
		func(s *Settings, v string) error {
			v = strings.TrimSpace(v)
			svc, host, ok := strings.Cut(v, "/")
			if v != "" && (!ok || svc == "" || host == "" || len(v) > 255 || strings.ContainsFunc(v, func(r rune) bool { return r <= ' ' || r > '~' })) {
				return errors.New("must look like HTTP/tokens.clinic.example")
			}
			s.TokenServiceSPN = v
			return nil
		}, func(s *Settings) string { return s.TokenServiceSPN }, nil},
	{"token_service_ca", "token_source service: a PEM file with the clinic's CA certificate, if it is not in the system's store", "",
		func(s *Settings, v string) error {
			v = strings.TrimSpace(v)
			if v != "" && !filepath.IsAbs(v) {
				return errors.New("must be an absolute path")
			}
			s.TokenServiceCA = v
			return nil
		}, func(s *Settings) string { return s.TokenServiceCA }, nil},
	{"token_command", "token_source emr: a program (absolute path, no arguments) that prints a fresh token for the clinician in HEIDI_EMAIL", "",
		func(s *Settings, v string) error {
			v = strings.TrimSpace(v)
			if v != "" && !filepath.IsAbs(v) {
				return errors.New("must be an absolute path to a program")
			}
			s.TokenCommand = v
			return nil
		}, func(s *Settings) string { return s.TokenCommand }, nil},
	{"prefetch", "at start-up and after sleep or unlock, fetch the token of the clinician last launched on this workstation (their first launch is then instant)", "true",
		func(s *Settings, v string) error {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return errors.New("must be true or false")
			}
			s.Prefetch = b
			return nil
		}, func(s *Settings) string { return strconv.FormatBool(s.Prefetch) },
		func(s *Settings, _ string) { s.Prefetch = false }}, // a policy turning it off that cannot be read is off
	{"renew_hours", "hours after a clinician's last launch that their token keeps being renewed in the background (1 to 24)", "4",
		func(s *Settings, v string) error {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > 24 {
				return errors.New("must be a whole number of hours from 1 to 24")
			}
			s.RenewHours = n
			return nil
		}, func(s *Settings) string { return strconv.Itoa(s.RenewHours) }, nil},
	{"memory_limit_mib", "the Go runtime's soft memory limit in MiB (0: none; GOMEMLIMIT wins)", "32",
		func(s *Settings, v string) error {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 || n > 4096 || (n > 0 && n < 16) {
				return errors.New("must be 0 (no limit) or a number of MiB from 16 to 4096")
			}
			s.MemoryLimitMiB = n
			return nil
		}, func(s *Settings) string { return strconv.Itoa(s.MemoryLimitMiB) }, nil},
	{"log_level", "info or debug", "info",
		func(s *Settings, v string) error {
			if v != "info" && v != "debug" {
				return errors.New("must be info or debug")
			}
			s.LogLevel = v
			return nil
		}, func(s *Settings) string { return s.LogLevel }, nil},
}

func lookup(key string) *setting {
	for i := range all {
		if all[i].key == key {
			return &all[i]
		}
	}
	return nil
}

// Keys returns every setting's name, in documentation order.
func Keys() []string {
	out := make([]string, len(all))
	for i, s := range all {
		out[i] = s.key
	}
	return out
}

// Doc returns a setting's one-line description.
func Doc(key string) string {
	if s := lookup(key); s != nil {
		return s.doc
	}
	return ""
}

// Value returns a setting's effective value as text.
func (c *Config) Value(key string) string {
	if s := lookup(key); s != nil {
		return s.show(&c.Settings)
	}
	return ""
}

// SourceText says where a setting came from, e.g. "policy HKLM\…" or
// "file /home/…/config.toml:3".
func (c *Config) SourceText(key string) string {
	src := c.Sources[key]
	if src.Where == "" {
		return src.Kind
	}
	return src.Kind + " " + src.Where
}

// PolicySource gives the administrator's settings (registry or managed
// preferences); nil where the platform has none.
type PolicySource interface {
	Policy() (map[string]string, string, error) // values, where they came from
}

// Load resolves the settings. file may not exist; env is os.Environ-style.
// Nothing in the file, the environment or the policy stops heidi-tray: a
// setting that cannot be applied becomes a warning (Config.Warnings) and the
// safe value stays. The error is only for a file that exists but cannot be read.
func Load(file string, env []string, policy PolicySource) (*Config, error) {
	c := &Config{Sources: map[string]Source{}, File: file}
	for _, s := range all {
		if err := s.apply(&c.Settings, s.def); err != nil {
			panic("bad default for " + s.key) // a programming error
		}
		c.Sources[s.key] = Source{Kind: "default"}
	}
	if file != "" {
		if err := c.loadFile(file); err != nil {
			return nil, err
		}
	}
	for _, kv := range env {
		name, v, ok := strings.Cut(kv, "=")
		key, isOurs := strings.CutPrefix(name, "HEIDI_TRAY_")
		if !ok || !isOurs {
			continue
		}
		s := lookup(strings.ToLower(key))
		if s == nil {
			continue // HEIDI_TRAY_CONFIG and friends
		}
		c.set(s, v, Source{Kind: "env", Where: name}, "environment variable "+name)
	}
	if policy != nil {
		vals, where, err := policy.Policy()
		if err != nil {
			c.warn("reading the administrator's policy (%s): %v; ask your IT administrator", where, err)
		}
		keys := make([]string, 0, len(vals))
		for k := range vals {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			s := lookup(k)
			if s == nil || k == "api_base" || k == "widget_script" {
				c.warn("policy (%s): %q is not a setting this version of heidi-tray knows an administrator can set; ignored", where, k)
				continue
			}
			c.set(s, vals[k], Source{Kind: "policy", Where: where}, "policy ("+where+") "+k)
		}
	}
	return c, nil
}

func (c *Config) warn(format string, a ...any) {
	c.Warnings = append(c.Warnings, fmt.Sprintf(format, a...))
}

// set applies v to s from src, or records why not and leaves the safe value.
func (c *Config) set(s *setting, v string, src Source, place string) {
	if err := s.apply(&c.Settings, v); err != nil {
		what := "the previous value (" + s.show(&c.Settings) + ") stays"
		if s.onBad != nil {
			s.onBad(&c.Settings, v)
			what = "it is now " + strconv.Quote(s.show(&c.Settings)) + " to stay safe"
			c.Sources[s.key] = src
		}
		c.warn("%s: %v (%s); ignored, %s", place, err, s.doc, what)
		return
	}
	c.Sources[s.key] = src
}

// maxFile bounds the config file: it holds a dozen settings.
const maxFile = 64 << 10

// loadFile reads the TOML file. Unknown keys and bad values are warnings
// with the file and line; a file that is not TOML is ignored as a whole.
func (c *Config) loadFile(file string) error {
	data, err := os.ReadFile(file)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading the config file: %w", err)
	}
	if len(data) > maxFile {
		c.warn("%s: the file is %d bytes, more than a settings file needs (%d); ignored", file, len(data), maxFile)
		return nil
	}
	var values map[string]any
	if err := toml.Unmarshal(data, &values); err != nil {
		line := 0
		var de *toml.DecodeError
		if errors.As(err, &de) {
			line, _ = de.Position()
		}
		c.warn("%s:%d: not valid TOML (%v); the file is ignored until it is fixed", file, line, err)
		return nil
	}
	for _, kl := range keyLines(data) {
		place := fmt.Sprintf("%s:%d", file, kl.line)
		s := lookup(kl.key)
		if s == nil {
			c.warn("%s: unknown setting %q (known: %s); ignored", place, kl.key, strings.Join(Keys(), ", "))
			continue
		}
		v, err := valueText(values[kl.key])
		if err != nil {
			c.warn("%s: %s: %v; ignored", place, kl.key, err)
			continue
		}
		c.set(s, v, Source{Kind: "file", Where: place}, place+": "+kl.key)
	}
	return nil
}

type keyLine struct {
	key  string
	line int
}

// keyLines lists the file's keys in order with their lines; a [table]
// contributes its name (heidi-tray's settings are all top-level).
func keyLines(data []byte) []keyLine {
	var out []keyLine
	table := "" // keys after a [table] header belong to it
	p := unstable.Parser{}
	p.Reset(data)
	for p.NextExpression() {
		e := p.Expression()
		if e.Kind != unstable.KeyValue && e.Kind != unstable.Table && e.Kind != unstable.ArrayTable {
			continue
		}
		var parts []string
		line := 0
		for it := e.Key(); it.Next(); {
			n := it.Node()
			parts = append(parts, string(n.Data))
			if line == 0 && n.Raw.Length > 0 {
				line = p.Shape(n.Raw).Start.Line
			}
		}
		if line == 0 {
			line = p.Shape(e.Raw).Start.Line
		}
		key := strings.Join(parts, ".")
		if e.Kind != unstable.KeyValue {
			table = key
		} else if table != "" {
			continue // reported once, as the table
		}
		out = append(out, keyLine{key, line})
	}
	return out
}

// valueText turns a TOML value into the text the settings' parsers take.
func valueText(v any) (string, error) {
	switch t := v.(type) {
	case string:
		return t, nil
	case bool:
		return strconv.FormatBool(t), nil
	case int64:
		return strconv.FormatInt(t, 10), nil
	case []any:
		items := make([]string, 0, len(t))
		for _, x := range t {
			s, ok := x.(string)
			if !ok {
				return "", errors.New("list items must be quoted strings")
			}
			items = append(items, s)
		}
		return strings.Join(items, ","), nil
	case map[string]any:
		return "", errors.New("is a table; heidi-tray's settings are plain key = value lines")
	}
	return "", fmt.Errorf("%v is not a string, whole number, true/false or list of strings", v)
}

// Template is the commented file 'heidi-tray config --init' writes.
func Template() string {
	var b strings.Builder
	b.WriteString("# heidi-tray settings. Environment variables HEIDI_TRAY_<KEY> override this file;\n# an administrator's policy overrides both. 'heidi-tray config' shows the result.\n\n")
	for _, s := range all {
		fmt.Fprintf(&b, "# %s\n", s.doc)
		def := strconv.Quote(s.def)
		if s.key == "port" || s.key == "clipboard" || s.key == "require_signed_urls" || s.key == "autostart" || s.key == "disabled" {
			def = s.def
		}
		if s.key == "allowed_email_domains" {
			def = "[]"
		}
		fmt.Fprintf(&b, "# %s = %s\n\n", s.key, def)
	}
	return b.String()
}

// SetInFile sets key = value in the config file, keeping its comments and
// other lines; the value is validated first.
func SetInFile(file, key, value string) error {
	s := lookup(key)
	if s == nil {
		return fmt.Errorf("unknown setting %q", key)
	}
	var probe Settings
	if err := s.apply(&probe, value); err != nil {
		return fmt.Errorf("%s: %w", key, err)
	}
	line := key + " = " + strconv.Quote(value)
	if key == "port" || key == "clipboard" || key == "require_signed_urls" || key == "autostart" || key == "disabled" {
		line = key + " = " + value
	}
	data, err := os.ReadFile(file)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(data) == 0 {
		lines = nil
	}
	done := false
	for i, l := range lines {
		k, _, ok := strings.Cut(strings.TrimSpace(l), "=")
		if ok && !strings.HasPrefix(strings.TrimSpace(l), "#") && strings.TrimSpace(k) == key {
			lines[i], done = line, true
			break
		}
	}
	if !done {
		lines = append(lines, line)
	}
	if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
		return err
	}
	return atomicfile.WriteFile(file, []byte(strings.Join(lines, "\n")+"\n"), 0o600)
}

// validWidgetScript: an https URL, an http URL to this machine, or a path on
// the page server (not "//host/…", which a browser reads as another host).
func validWidgetScript(v string) bool {
	if strings.HasPrefix(v, "/") {
		return !strings.HasPrefix(v, "//") && !strings.HasPrefix(v, "/\\")
	}
	u, err := url.Parse(v)
	if err == nil && u.Scheme == "https" && u.Host != "" && u.User == nil {
		return true
	}
	return loopback.HTTPURL(v)
}
