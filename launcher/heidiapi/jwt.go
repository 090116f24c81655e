package heidiapi

import (
	"encoding/json"
	"log/slog"
)

// JWT is a clinician's Heidi token. It redacts itself in fmt, slog and JSON,
// so it only leaves through an explicit Reveal.
type JWT struct{ v string }

func NewJWT(s string) JWT { return JWT{s} }

func (t JWT) Reveal() string               { return t.v }
func (t JWT) IsZero() bool                 { return t.v == "" }
func (t JWT) Equal(o JWT) bool             { return t.v == o.v }
func (t JWT) String() string               { return "[redacted]" }
func (t JWT) GoString() string             { return "[redacted]" }
func (t JWT) LogValue() slog.Value         { return slog.StringValue("[redacted]") }
func (t JWT) MarshalJSON() ([]byte, error) { return json.Marshal("[redacted]") }
