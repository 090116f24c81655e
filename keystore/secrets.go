package keystore

import (
	"encoding/json"
	"log/slog"
)

const redacted = "[redacted]"

// APIKey is a clinic's Heidi API key for one region. It redacts itself in
// fmt, slog and JSON, so it only leaves through an explicit Reveal.
type APIKey struct{ v string }

// NewAPIKey wraps a key; ValidateKey checks its form.
func NewAPIKey(s string) APIKey { return APIKey{s} }

func (k APIKey) Reveal() string               { return k.v }
func (k APIKey) IsZero() bool                 { return k.v == "" }
func (k APIKey) Masked() string               { return Mask(k.v) }
func (k APIKey) String() string               { return redacted }
func (k APIKey) GoString() string             { return redacted }
func (k APIKey) LogValue() slog.Value         { return slog.StringValue(redacted) }
func (k APIKey) MarshalJSON() ([]byte, error) { return json.Marshal(redacted) }

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
