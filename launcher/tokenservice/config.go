// Package tokenservice is the clinic token service ('heidi-tray serve'): it
// holds the clinic's Heidi API keys on a server, authenticates workstations
// by Kerberos (SPNEGO over HTTPS), decides which clinician emails each
// Windows sign-in may get tokens for, and mints JWTs at Heidi's endpoint.
// Replicas share nothing but their config, keys file and keytab.
//
// It lives apart from the tray (launcher/tokensource is the client side) so
// that the workstation build, and the Windows exe in particular, carries no
// Kerberos server code.
package tokenservice

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/heidi-tray/heidi-tray/launcher/heidiapi"
	"github.com/heidi-tray/heidi-tray/launcher/request"
)

// Identity policies.
const (
	// Personal: each Windows sign-in is one clinician; the principal maps to
	// exactly one email and any other email is refused.
	Personal = "personal"
	// Shared: a shared clinic login; any email in allowed_email_domains is
	// accepted, and the principal and workstation are recorded.
	Shared = "shared"
)

// Config is the service's JSON config file. Secrets are never in it: the
// keys live in KeysFile and the service's Kerberos keys in Keytab.
type Config struct {
	Listen   string `json:"listen"`    // host:port, default ":8443"
	TLSCert  string `json:"tls_cert"`  // PEM certificate chain (the clinic's certificate)
	TLSKey   string `json:"tls_key"`   // PEM private key
	Keytab   string `json:"keytab"`    // the service principal's keytab
	SPN      string `json:"principal"` // e.g. HTTP/tokens.clinic.example; empty: any key in the keytab
	KeysFile string `json:"keys_file"` // {"AU": "<key>", …}; readable by the service account only
	// KeysSource is "file" (default: KeysFile) or "keychain": the service
	// account's own keychain, where 'heidi-tray key set' run as that account
	// puts them (Windows Credential Manager, macOS Keychain, Secret Service).
	KeysSource string `json:"keys_source"`

	Environment string `json:"environment"` // production | staging
	APIBase     string `json:"api_base"`    // override of Heidi's base URL (tests, staging)

	Identity            string            `json:"identity"`              // personal | shared
	EmailRule           string            `json:"email_rule"`            // personal: e.g. "{user}@clinic.example"
	EmailMap            map[string]string `json:"email_map"`             // personal: "alice@CLINIC.EXAMPLE": "a.smith@clinic.example"
	AllowedEmailDomains []string          `json:"allowed_email_domains"` // shared (and personal, if set): allowed domains
	DeniedPrincipals    []string          `json:"denied_principals"`     // refused at once, e.g. a leaver's account

	PerPrincipalPerMinute int `json:"per_principal_per_minute"` // default 20
	GlobalPerMinute       int `json:"global_per_minute"`        // default 600

	AuditLog string `json:"audit_log"` // JSON-lines file, appended; required

	// MaxClockSkew (seconds, default 300, Kerberos' usual) is how far a
	// workstation's clock may be off; it also lets a ticket be used this long
	// past its end.
	MaxClockSkew int `json:"max_clock_skew_seconds"`
}

// Limits on the config file and what it may say.
const maxConfigFile = 1 << 20

// LoadConfig reads and validates a config file (unknown keys are errors: a
// typo in a security policy must not pass silently).
func LoadConfig(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading the token service config: %w", err)
	}
	if len(b) > maxConfigFile {
		return nil, fmt.Errorf("token service config %s is larger than 1 MiB", path)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var c Config
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("token service config %s: %w", path, err)
	}
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("token service config %s: %w", path, err)
	}
	return &c, nil
}

// Validate checks the config and fills in defaults.
func (c *Config) Validate() error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if c.Listen == "" {
		c.Listen = ":8443"
	}
	if c.TLSCert == "" || c.TLSKey == "" {
		bad("tls_cert and tls_key are required: workstations only talk to the service over HTTPS")
	}
	if c.Keytab == "" {
		bad("keytab is required (the service principal's keys; see docs/token-service.md)")
	}
	if c.SPN != "" && !strings.Contains(c.SPN, "/") {
		bad("principal %q should look like HTTP/host.clinic.example", c.SPN)
	}
	switch c.KeysSource {
	case "", "file":
		c.KeysSource = "file"
		if c.KeysFile == "" {
			bad("keys_file is required (the region keys, readable by the service account only), or keys_source \"keychain\"")
		}
	case "keychain":
		if c.KeysFile != "" {
			bad("keys_file and keys_source \"keychain\" exclude each other")
		}
	default:
		bad("keys_source must be \"file\" or \"keychain\"")
	}
	if c.AuditLog == "" {
		bad("audit_log is required: every mint is audited")
	}
	if c.Environment == "" {
		c.Environment = heidiapi.Production
	}
	if _, err := heidiapi.BaseURL(c.Environment, "AU", c.APIBase); err != nil {
		errs = append(errs, err)
	}
	for i, d := range c.AllowedEmailDomains {
		d = strings.ToLower(strings.TrimSpace(d))
		if request.ValidateEmail("x@"+d) != nil {
			bad("allowed_email_domains: %q is not a domain", d)
		}
		c.AllowedEmailDomains[i] = d
	}
	switch c.Identity {
	case Personal:
		if c.EmailRule == "" && len(c.EmailMap) == 0 {
			bad("identity %q needs email_rule (e.g. \"{user}@clinic.example\") or email_map", Personal)
		}
		if c.EmailRule != "" {
			if !strings.Contains(c.EmailRule, "{user}") {
				bad("email_rule %q must contain {user}", c.EmailRule)
			} else if request.ValidateEmail(strings.NewReplacer("{user}", "x", "{realm}", "x").Replace(c.EmailRule)) != nil {
				bad("email_rule %q does not make an email address", c.EmailRule)
			}
		}
		for p, e := range c.EmailMap {
			if request.ValidateEmail(e) != nil {
				bad("email_map: %q for %s is not an email address", e, p)
			}
		}
	case Shared:
		if len(c.AllowedEmailDomains) == 0 {
			bad("identity %q needs allowed_email_domains: a shared login must not get tokens for any email", Shared)
		}
	default:
		bad("identity must be %q (each sign-in is one clinician) or %q (shared logins)", Personal, Shared)
	}
	if c.PerPrincipalPerMinute == 0 {
		c.PerPrincipalPerMinute = 20
	}
	if c.GlobalPerMinute == 0 {
		c.GlobalPerMinute = 600
	}
	if c.MaxClockSkew == 0 {
		c.MaxClockSkew = 300
	}
	if c.MaxClockSkew < 0 || c.MaxClockSkew > 3600 {
		bad("max_clock_skew_seconds must be from 1 to 3600")
	}
	if c.PerPrincipalPerMinute < 0 || c.GlobalPerMinute < 0 {
		bad("rate limits must be positive")
	}
	return errors.Join(errs...)
}

// window is the rate limits' period.
const window = time.Minute
