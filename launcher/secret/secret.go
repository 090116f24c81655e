// Package secret holds the values heidi-tray must never print: the clinic's
// API key, a clinician's JWT and the launch secret. Each type redacts itself in
// fmt, slog and JSON, so a secret only leaves through an explicit Reveal.
package secret

import (
	"encoding/json"
	"log/slog"
)

const redacted = "[redacted]"

// APIKey is a clinic's Heidi API key for one region.
type APIKey struct{ v string }

// NewAPIKey wraps a key; validation lives with the keystore.
func NewAPIKey(s string) APIKey { return APIKey{s} }

func (k APIKey) Reveal() string               { return k.v }
func (k APIKey) IsZero() bool                 { return k.v == "" }
func (k APIKey) Masked() string               { return Mask(k.v) }
func (k APIKey) String() string               { return redacted }
func (k APIKey) GoString() string             { return redacted }
func (k APIKey) LogValue() slog.Value         { return slog.StringValue(redacted) }
func (k APIKey) MarshalJSON() ([]byte, error) { return json.Marshal(redacted) }

// JWT is a clinician's Heidi token.
type JWT struct{ v string }

func NewJWT(s string) JWT { return JWT{s} }

func (t JWT) Reveal() string               { return t.v }
func (t JWT) IsZero() bool                 { return t.v == "" }
func (t JWT) Equal(o JWT) bool             { return t.v == o.v }
func (t JWT) String() string               { return redacted }
func (t JWT) GoString() string             { return redacted }
func (t JWT) LogValue() slog.Value         { return slog.StringValue(redacted) }
func (t JWT) MarshalJSON() ([]byte, error) { return json.Marshal(redacted) }

// LaunchSecret is the shared secret that signs heidi-tray:// URLs.
type LaunchSecret struct{ v []byte }

func NewLaunchSecret(b []byte) LaunchSecret { return LaunchSecret{append([]byte(nil), b...)} }

func (s LaunchSecret) Reveal() []byte               { return s.v }
func (s LaunchSecret) IsZero() bool                 { return len(s.v) == 0 }
func (s LaunchSecret) String() string               { return redacted }
func (s LaunchSecret) GoString() string             { return redacted }
func (s LaunchSecret) LogValue() slog.Value         { return slog.StringValue(redacted) }
func (s LaunchSecret) MarshalJSON() ([]byte, error) { return json.Marshal(redacted) }

// Mask shows only the last four characters, the way key status lists keys.
func Mask(s string) string {
	if len(s) <= 8 {
		return "****"
	}
	return "****" + s[len(s)-4:]
}
