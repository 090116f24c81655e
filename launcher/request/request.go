// Package request defines what an EMR may ask heidi-tray to do, and the one set
// of validation rules every channel (IPC, command line, URL) applies to it.
package request

import (
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/heidi-tray/heidi-tray/launcher/heidiapi"
)

// Bounds, shared by every channel and documented in docs/ipc.md.
const (
	MaxEmail       = 254
	MaxUserID      = 128
	MaxPatientID   = 128
	MaxPatientName = 200
	MaxEncounterID = 128
	MaxContext     = 10000
)

// Genders accepted by Heidi's PatientInfo.
var Genders = []string{"male", "female", "other", "unknown"}

// Clinician identifies whose Heidi is opened: one JWT per clinician and region.
type Clinician struct {
	Email  string `json:"email"`
	UserID string `json:"user_id"`
	Region string `json:"region"`
}

// LogValue keeps emails out of logs in the clear: support needs only the domain.
func (c Clinician) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("email", MaskEmail(c.Email)),
		slog.String("region", c.Region),
	)
}

// Patient is Heidi's PatientInfo.
type Patient struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	DOB    string `json:"dob,omitempty"`
	Gender string `json:"gender,omitempty"`
}

// LogValue: patient names and dates of birth never reach a log.
func (p *Patient) LogValue() slog.Value {
	if p == nil {
		return slog.StringValue("none")
	}
	return slog.StringValue("present")
}

// Open asks for Heidi to be opened for a clinician, usually on a patient.
type Open struct {
	Clinician
	Patient     *Patient `json:"patient,omitempty"`
	EncounterID string   `json:"encounter_id,omitempty"`
	Context     string   `json:"context,omitempty"`
}

// Error is a validation failure: which field, and what is wrong with it.
type Error struct {
	Field string
	Msg   string
}

func (e *Error) Error() string { return e.Field + ": " + e.Msg }

func fieldErr(field, format string, args ...any) error {
	return &Error{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// Normalize fills defaults (region) and canonical forms (upper-case region,
// lower-case gender and email) and then validates.
func (o *Open) Normalize(defaultRegion string) error {
	if o.Region == "" {
		o.Region = defaultRegion
	}
	o.Region = strings.ToUpper(o.Region)
	o.Email = strings.ToLower(o.Email)
	if o.Patient != nil {
		o.Patient.Gender = strings.ToLower(strings.TrimSpace(o.Patient.Gender))
	}
	return o.Validate()
}

// Validate checks every field against its bounds.
func (o *Open) Validate() error {
	if err := ValidateEmail(o.Email); err != nil {
		return err
	}
	if err := printable("user_id", o.UserID, 1, MaxUserID); err != nil {
		return err
	}
	if err := ValidateRegion(o.Region); err != nil {
		return err
	}
	if p := o.Patient; p != nil {
		if err := printable("patient_id", p.ID, 1, MaxPatientID); err != nil {
			return err
		}
		if err := text("patient_name", p.Name, 1, MaxPatientName, false); err != nil {
			return err
		}
		if p.DOB != "" {
			if err := ValidateDOB(p.DOB); err != nil {
				return err
			}
		}
		if p.Gender != "" && !slices.Contains(Genders, p.Gender) {
			return fieldErr("patient_gender", "must be one of %s", strings.Join(Genders, ", "))
		}
	}
	if o.EncounterID != "" {
		if err := printable("encounter_id", o.EncounterID, 1, MaxEncounterID); err != nil {
			return err
		}
	}
	if o.Context != "" {
		if err := text("context", o.Context, 1, MaxContext, true); err != nil {
			return err
		}
	}
	return nil
}

// ValidateRegion accepts Heidi's region codes (already upper-cased).
func ValidateRegion(r string) error {
	if err := heidiapi.ValidateRegion(r); err != nil {
		return fieldErr("region", "%v", err)
	}
	return nil
}

// ValidateEmail accepts plain ASCII addresses only: a look-alike Unicode email
// would otherwise name a different Heidi account than the one the EMR shows.
func ValidateEmail(e string) error {
	if e == "" {
		return fieldErr("email", "is required")
	}
	if len(e) > MaxEmail {
		return fieldErr("email", "is longer than %d characters", MaxEmail)
	}
	for _, r := range e {
		if r > unicode.MaxASCII {
			return fieldErr("email", "must be plain ASCII (found %q); look-alike letters are refused", r)
		}
		if r <= ' ' || r == 0x7f || strings.ContainsRune(`"(),:;<>[\]`, r) {
			return fieldErr("email", "contains a character not allowed in an address (%q)", r)
		}
	}
	at := strings.LastIndexByte(e, '@')
	if at < 1 || at != strings.IndexByte(e, '@') {
		return fieldErr("email", "must look like name@clinic.example")
	}
	local, domain := e[:at], e[at+1:]
	if len(local) > 64 || strings.HasPrefix(local, ".") || strings.HasSuffix(local, ".") || strings.Contains(local, "..") {
		return fieldErr("email", "has an invalid part before the @")
	}
	labels := strings.Split(domain, ".")
	if len(labels) < 2 {
		return fieldErr("email", "domain %q needs a dot (name@clinic.example)", domain)
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return fieldErr("email", "has an invalid domain %q", domain)
		}
		for _, r := range l {
			if !(r == '-' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9') {
				return fieldErr("email", "has an invalid domain %q", domain)
			}
		}
	}
	return nil
}

// ValidateDOB accepts a real calendar date, YYYY-MM-DD, not in the future.
func ValidateDOB(s string) error {
	d, err := time.Parse(time.DateOnly, s)
	if err != nil || d.Format(time.DateOnly) != s {
		return fieldErr("patient_dob", "%q is not a date in the form YYYY-MM-DD", Clip(s))
	}
	if d.Year() < 1850 || d.After(time.Now().Add(24*time.Hour)) {
		return fieldErr("patient_dob", "%s is not a plausible date of birth", s)
	}
	return nil
}

// printable: ASCII printable, no surrounding spaces (ids that EMRs generate).
func printable(field, s string, min, max int) error {
	if len(s) < min {
		return fieldErr(field, "is required")
	}
	if len(s) > max {
		return fieldErr(field, "is longer than %d characters", max)
	}
	for _, r := range s {
		if r < 0x20 || r > 0x7e {
			return fieldErr(field, "must be printable ASCII (found %q)", r)
		}
	}
	if strings.TrimSpace(s) != s {
		return fieldErr(field, "must not start or end with a space")
	}
	return nil
}

// text: any printable Unicode (names, free text), no control characters except
// newlines and tabs where multiLine.
func text(field, s string, min, max int, multiLine bool) error {
	if !utf8.ValidString(s) {
		return fieldErr(field, "is not valid UTF-8")
	}
	n := utf8.RuneCountInString(s)
	if n < min || strings.TrimSpace(s) == "" {
		return fieldErr(field, "is required")
	}
	if n > max {
		return fieldErr(field, "is longer than %d characters", max)
	}
	for _, r := range s {
		if multiLine && (r == '\n' || r == '\t' || r == '\r') {
			continue
		}
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' || unicode.Is(unicode.Cf, r) && r != '\u200d' {
			return fieldErr(field, "contains a control character (%U)", r)
		}
	}
	return nil
}

// Clip shortens a value quoted in an error message.
func Clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// MaskEmail keeps the first letter and the domain: enough for support to tell
// clinicians and clinics apart, not enough to read the address.
func MaskEmail(e string) string {
	at := strings.LastIndexByte(e, '@')
	if at < 1 {
		return "***"
	}
	return e[:1] + "***" + e[at:]
}

// DomainAllowed reports whether email belongs to one of the allowed domains
// (an empty list allows every domain).
func DomainAllowed(email string, domains []string) bool {
	if len(domains) == 0 {
		return true
	}
	at := strings.LastIndexByte(email, '@')
	d := strings.ToLower(email[at+1:])
	for _, a := range domains {
		if d == strings.ToLower(a) {
			return true
		}
	}
	return false
}
