// Package config resolves heidi-tray's settings from, in rising precedence:
// built-in defaults, the user's config file, HEIDI_TRAY_<KEY> environment
// variables, and the administrator's policy. Every value is validated, and
// each setting remembers where it came from ('heidi-tray config').
package config

import (
	"bufio"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/heidi-tray/heidi-tray/launcher/heidiapi"
	"github.com/heidi-tray/heidi-tray/launcher/internal/atomicfile"
	"github.com/heidi-tray/heidi-tray/launcher/internal/loopback"
	"github.com/heidi-tray/heidi-tray/launcher/request"
)

// Settings are the effective settings.
type Settings struct {
	Region              string   // default region for launches: AU EU UK US CA
	Environment         string   // production | staging
	APIBase             string   // overrides the JWT endpoint's base URL
	Browser             string   // app | default | a command (the URL is appended)
	Port                int      // loopback port of the page server; 0 = chosen once and remembered
	WidgetScript        string   // overrides the widget SDK URL
	AllowedEmailDomains []string // launches for other domains are refused
	Clipboard           bool     // copy pushed notes to the clipboard
	ProductName         string   // shown by Heidi during sign-up
	LogLevel            string   // info | debug
	Autostart           bool     // install sets up start at login
	Disabled            bool     // an administrator's kill switch
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
}

type setting struct {
	key   string
	doc   string
	def   string
	apply func(s *Settings, v string) error
	show  func(s *Settings) string
}

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
		}, func(s *Settings) string { return s.Region }},
	{"environment", "production or staging", heidiapi.Production,
		func(s *Settings, v string) error {
			if v != heidiapi.Production && v != heidiapi.Staging {
				return fmt.Errorf("must be %q or %q", heidiapi.Production, heidiapi.Staging)
			}
			s.Environment = v
			return nil
		}, func(s *Settings) string { return s.Environment }},
	{"api_base", "override of the JWT endpoint's base URL (https, or http to loopback)", "",
		func(s *Settings, v string) error {
			if v != "" {
				if err := heidiapi.ValidateBase(v); err != nil {
					return err
				}
			}
			s.APIBase = v
			return nil
		}, func(s *Settings) string { return s.APIBase }},
	{"browser", "app (a chromeless Edge/Chrome window), default, or a command to which the URL is appended", "app",
		func(s *Settings, v string) error {
			if strings.TrimSpace(v) == "" {
				return errors.New("must be app, default or a command")
			}
			s.Browser = strings.TrimSpace(v)
			return nil
		}, func(s *Settings) string { return s.Browser }},
	{"port", "loopback port of the widget page; 0 picks one on first run and keeps it", "0",
		func(s *Settings, v string) error {
			n, err := strconv.Atoi(v)
			if err != nil || n != 0 && (n < 1024 || n > 65535) {
				return errors.New("must be 0 or a port from 1024 to 65535")
			}
			s.Port = n
			return nil
		}, func(s *Settings) string { return strconv.Itoa(s.Port) }},
	{"widget_script", "override of Heidi's widget script URL", "",
		func(s *Settings, v string) error {
			if v != "" && !validWidgetScript(v) {
				return errors.New("must be an https URL, a loopback http URL, or a path on the page server")
			}
			s.WidgetScript = v
			return nil
		}, func(s *Settings) string { return s.WidgetScript }},
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
		}, func(s *Settings) string { return strings.Join(s.AllowedEmailDomains, ",") }},
	{"clipboard", "copy notes pushed from Heidi to the clipboard", "true",
		func(s *Settings, v string) error {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return errors.New("must be true or false")
			}
			s.Clipboard = b
			return nil
		}, func(s *Settings) string { return strconv.FormatBool(s.Clipboard) }},
	{"product_name", "the EMR's name, shown by Heidi during sign-up", "heidi-tray",
		func(s *Settings, v string) error {
			if len(v) == 0 || len(v) > 80 || strings.ContainsFunc(v, func(r rune) bool { return r < 0x20 }) {
				return errors.New("must be 1 to 80 printable characters")
			}
			s.ProductName = v
			return nil
		}, func(s *Settings) string { return s.ProductName }},
	{"autostart", "start heidi-tray at login (install sets it up)", "true",
		func(s *Settings, v string) error {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return errors.New("must be true or false")
			}
			s.Autostart = b
			return nil
		}, func(s *Settings) string { return strconv.FormatBool(s.Autostart) }},
	{"disabled", "turn heidi-tray off on this workstation (an administrator's kill switch)", "false",
		func(s *Settings, v string) error {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return errors.New("must be true or false")
			}
			s.Disabled = b
			return nil
		}, func(s *Settings) string { return strconv.FormatBool(s.Disabled) }},
	{"log_level", "info or debug", "info",
		func(s *Settings, v string) error {
			if v != "info" && v != "debug" {
				return errors.New("must be info or debug")
			}
			s.LogLevel = v
			return nil
		}, func(s *Settings) string { return s.LogLevel }},
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

// PolicySource gives the administrator's settings (registry or managed
// preferences); nil where the platform has none.
type PolicySource interface {
	Policy() (map[string]string, string, error) // values, where they came from
}

// Load resolves the settings. file may not exist; env is os.Environ-style.
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
		if err := s.apply(&c.Settings, v); err != nil {
			return nil, fmt.Errorf("environment variable %s: %w", name, err)
		}
		c.Sources[s.key] = Source{Kind: "env", Where: name}
	}
	if policy != nil {
		vals, where, err := policy.Policy()
		if err != nil {
			return nil, fmt.Errorf("reading the administrator's policy: %w", err)
		}
		keys := make([]string, 0, len(vals))
		for k := range vals {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			s := lookup(k)
			if s == nil || k == "api_base" || k == "widget_script" {
				return nil, fmt.Errorf("policy (%s): %q is not a setting an administrator can set", where, k)
			}
			if err := s.apply(&c.Settings, vals[k]); err != nil {
				return nil, fmt.Errorf("policy (%s) %s: %w", where, k, err)
			}
			c.Sources[k] = Source{Kind: "policy", Where: where}
		}
	}
	return c, nil
}

// FileError is a problem in the config file, with its place and a hint.
type FileError struct {
	File string
	Line int
	Msg  string
}

func (e *FileError) Error() string { return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg) }

func (c *Config) loadFile(file string) error {
	f, err := os.Open(file)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading the config file: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 4096), 64<<10)
	seen := map[string]int{}
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		ferr := func(format string, a ...any) error {
			return &FileError{File: file, Line: n, Msg: fmt.Sprintf(format, a...)}
		}
		k, raw, ok := strings.Cut(line, "=")
		if !ok {
			return ferr("expected key = value (settings: %s)", strings.Join(Keys(), ", "))
		}
		k = strings.TrimSpace(k)
		s := lookup(k)
		if s == nil {
			return ferr("unknown setting %q (known: %s)", k, strings.Join(Keys(), ", "))
		}
		if prev, dup := seen[k]; dup {
			return ferr("%s is already set on line %d", k, prev)
		}
		seen[k] = n
		v, err := parseValue(strings.TrimSpace(raw))
		if err != nil {
			return ferr("%s: %v", k, err)
		}
		if err := s.apply(&c.Settings, v); err != nil {
			return ferr("%s: %v (%s)", k, err, s.doc)
		}
		c.Sources[k] = Source{Kind: "file", Where: fmt.Sprintf("%s:%d", file, n)}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("reading %s: %w", file, err)
	}
	return nil
}

// parseValue reads the TOML subset the file uses: "string", 'string', an
// integer, true/false, or ["a", "b"] (joined with commas), with an optional
// trailing # comment.
func parseValue(raw string) (string, error) {
	switch {
	case raw == "":
		return "", errors.New("has no value; quote strings, e.g. region = \"AU\"")
	case raw[0] == '"' || raw[0] == '\'':
		s, rest, err := quoted(raw)
		if err != nil {
			return "", err
		}
		if err := trailing(rest); err != nil {
			return "", err
		}
		return s, nil
	case raw[0] == '[':
		end := strings.LastIndexByte(raw, ']')
		if end < 0 {
			return "", errors.New("list is missing its closing ]")
		}
		if err := trailing(raw[end+1:]); err != nil {
			return "", err
		}
		inner := strings.TrimSpace(raw[1:end])
		var items []string
		for inner != "" {
			s, rest, err := quoted(inner)
			if err != nil {
				return "", fmt.Errorf("list items must be quoted strings: %w", err)
			}
			items = append(items, s)
			rest = strings.TrimSpace(rest)
			if rest != "" && rest[0] != ',' {
				return "", errors.New("list items must be separated by commas")
			}
			inner = strings.TrimSpace(strings.TrimPrefix(rest, ","))
		}
		return strings.Join(items, ","), nil
	}
	v, _, _ := strings.Cut(raw, "#")
	v = strings.TrimSpace(v)
	if v == "true" || v == "false" {
		return v, nil
	}
	if _, err := strconv.Atoi(v); err == nil {
		return v, nil
	}
	return "", fmt.Errorf("%q is not a quoted string, number, true/false or list; quote text, e.g. \"%s\"", v, v)
}

func quoted(raw string) (val, rest string, err error) {
	q := raw[0]
	for i := 1; i < len(raw); i++ {
		if q == '"' && raw[i] == '\\' {
			i++
			continue
		}
		if raw[i] == q {
			if q == '\'' {
				return raw[1:i], raw[i+1:], nil
			}
			s, err := strconv.Unquote(raw[:i+1])
			if err != nil {
				return "", "", fmt.Errorf("bad escape in %s", raw[:i+1])
			}
			return s, raw[i+1:], nil
		}
	}
	return "", "", errors.New("string is missing its closing quote")
}

func trailing(rest string) error {
	rest = strings.TrimSpace(rest)
	if rest != "" && rest[0] != '#' {
		return fmt.Errorf("unexpected %q after the value", rest)
	}
	return nil
}

// Template is the commented file 'heidi-tray config --init' writes.
func Template() string {
	var b strings.Builder
	b.WriteString("# heidi-tray settings. Environment variables HEIDI_TRAY_<KEY> override this file;\n# an administrator's policy overrides both. 'heidi-tray config' shows the result.\n\n")
	for _, s := range all {
		fmt.Fprintf(&b, "# %s\n", s.doc)
		def := strconv.Quote(s.def)
		if s.key == "port" || s.key == "clipboard" || s.key == "autostart" || s.key == "disabled" {
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
	if key == "port" || key == "clipboard" || key == "autostart" || key == "disabled" {
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
