// Package urlscheme parses heidi-tray:// URLs — which any web page can make
// the OS deliver — strictly, once, and verifies signed ones. See
// docs/url-scheme.md for the grammar and the signature's canonical form.
package urlscheme

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/heidi-tray/heidi-tray/launcher/internal/atomicfile"
	"github.com/heidi-tray/heidi-tray/launcher/request"
)

// Scheme is the URL scheme heidi-tray registers.
const Scheme = "heidi-tray"

// MaxURL bounds a whole URL (Windows command lines end at 32,767 characters).
const MaxURL = 32 << 10

// Skew is how far a signed URL's ts may be from this machine's clock.
const Skew = 120 * time.Second

// Actions and their parameters.
var (
	openParams   = []string{"email", "user_id", "region", "patient_id", "patient_name", "patient_dob", "patient_gender", "encounter_id", "context"}
	signedParams = []string{"ts", "nonce", "sig"}
)

// URL is a parsed heidi-tray:// URL: what it asks for, and its signature.
type URL struct {
	Action string       // open | logout
	Open   request.Open // for open
	// Params are the decoded parameters, for the signature.
	Params map[string]string
	Signed bool // ts, nonce and sig are present
	TS     int64
	Nonce  string
	Sig    string
}

// Error is a refused URL; the message says what is wrong with it.
type Error struct{ Msg string }

func (e *Error) Error() string { return "refused heidi-tray:// URL: " + e.Msg }

func refuse(format string, a ...any) error { return &Error{Msg: fmt.Sprintf(format, a...)} }

// Parse reads a heidi-tray:// URL. Nothing in it is trusted yet: signatures
// are checked by Verify, identities by the caller.
func Parse(raw, defaultRegion string) (URL, error) {
	if len(raw) > MaxURL {
		return URL{}, refuse("it is longer than %d bytes", MaxURL)
	}
	for i := 0; i < len(raw); i++ {
		if c := raw[i]; c <= ' ' || c == 0x7f || c == '"' || c == '\\' {
			return URL{}, refuse("it contains a space, quote, backslash or control character at byte %d; percent-encode values", i+1)
		}
	}
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok || !strings.EqualFold(scheme, Scheme) {
		return URL{}, refuse("it must start with %s://", Scheme)
	}
	if strings.ContainsAny(rest, "#") {
		return URL{}, refuse("fragments (#) are not allowed")
	}
	hostPath, query, _ := strings.Cut(rest, "?")
	if strings.Contains(query, ";") {
		return URL{}, refuse("a raw ';' is ambiguous; percent-encode it as %%3B")
	}
	action := strings.TrimSuffix(hostPath, "/")
	if action != "open" && action != "logout" {
		return URL{}, refuse("%q is not an action; use heidi-tray://open?… or heidi-tray://logout", request.Clip(hostPath))
	}
	l := URL{Action: action, Params: map[string]string{}}
	allowed := append([]string(nil), signedParams...)
	if action == "open" {
		allowed = append(allowed, openParams...)
	}
	if query != "" {
		for _, pair := range strings.Split(query, "&") {
			k, v, ok := strings.Cut(pair, "=")
			if !ok || k == "" {
				return URL{}, refuse("parameter %q has no name=value form", request.Clip(pair))
			}
			if !slices.Contains(allowed, k) {
				return URL{}, refuse("unknown parameter %q (allowed: %s)", request.Clip(k), strings.Join(allowed, ", "))
			}
			if _, dup := l.Params[k]; dup {
				return URL{}, refuse("parameter %q is repeated", k)
			}
			dv, err := url.QueryUnescape(v)
			if err != nil {
				return URL{}, refuse("parameter %q is not properly percent-encoded", k)
			}
			if !utf8.ValidString(dv) {
				return URL{}, refuse("parameter %q is not valid UTF-8", k)
			}
			if strings.ContainsFunc(dv, func(r rune) bool {
				return r == 0 || r < 0x20 && (k != "context" || r != '\n' && r != '\t' && r != '\r') || r == 0x7f
			}) {
				return URL{}, refuse("parameter %q contains a control character", k)
			}
			l.Params[k] = dv
		}
	}
	if err := l.readSignature(); err != nil {
		return URL{}, err
	}
	if action == "logout" {
		return l, nil
	}
	p := l.Params
	o := request.Open{Clinician: request.Clinician{Email: p["email"], UserID: p["user_id"], Region: p["region"]}, EncounterID: p["encounter_id"], Context: p["context"]}
	if p["patient_id"] != "" || p["patient_name"] != "" || p["patient_dob"] != "" || p["patient_gender"] != "" {
		o.Patient = &request.Patient{ID: p["patient_id"], Name: p["patient_name"], DOB: p["patient_dob"], Gender: p["patient_gender"]}
	}
	if err := o.Normalize(defaultRegion); err != nil {
		return URL{}, refuse("%v", err)
	}
	l.Open = o
	return l, nil
}

func (l *URL) readSignature() error {
	ts, hasTS := l.Params["ts"]
	nonce, hasNonce := l.Params["nonce"]
	sig, hasSig := l.Params["sig"]
	if !hasTS && !hasNonce && !hasSig {
		return nil
	}
	if !hasTS || !hasNonce || !hasSig {
		return refuse("a signed URL needs all of ts, nonce and sig")
	}
	n, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || n <= 0 || len(ts) > 12 {
		return refuse("ts must be unix seconds")
	}
	if len(nonce) < 16 || len(nonce) > 64 || strings.ContainsFunc(nonce, func(r rune) bool { return !isB64URL(r) }) {
		return refuse("nonce must be 16 to 64 characters of A-Z a-z 0-9 - _")
	}
	if len(sig) != 43 || strings.ContainsFunc(sig, func(r rune) bool { return !isB64URL(r) }) {
		return refuse("sig must be the 43-character base64url (no padding) HMAC-SHA256")
	}
	l.Signed, l.TS, l.Nonce, l.Sig = true, n, nonce, sig
	return nil
}

func isB64URL(r rune) bool {
	return r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_'
}

// Canonical is the string a launch secret signs: "heidi-tray-url-v1", the
// action, then every parameter except sig, sorted by name, as
// name=RFC3986-encoded(decoded value), one per line.
func Canonical(action string, params map[string]string) string {
	keys := make([]string, 0, len(params))
	for k := range params {
		if k != "sig" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString("heidi-tray-url-v1\n")
	b.WriteString(action)
	for _, k := range keys {
		b.WriteString("\n" + k + "=" + Encode(params[k]))
	}
	return b.String()
}

// Encode percent-encodes every byte except RFC 3986's unreserved characters,
// with upper-case hex (C#'s Uri.EscapeDataString, Python's quote(v, safe="")).
func Encode(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// Sign returns the sig for the canonical form.
func Sign(secret []byte, action string, params map[string]string) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(Canonical(action, params)))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// Nonces remembers used nonces for as long as a signed URL could be valid.
// With File set they are kept there too, so a restart (or a crash, and the
// next URL starting a new tray) does not make a used URL good again.
type Nonces struct {
	File string // "" keeps them in memory only

	mu     sync.Mutex
	seen   map[string]time.Time // nonce → when it can be forgotten
	loaded bool
}

// maxNonces bounds memory; a burst beyond it is refused rather than forgotten.
const maxNonces = 100000

// Verify checks a signed launch: signature, clock skew and replay.
func Verify(l URL, secret []byte, now time.Time, nonces *Nonces) error {
	if !l.Signed {
		return refuse("it is not signed, and this workstation requires signed launches (ts, nonce, sig)")
	}
	want := Sign(secret, l.Action, l.Params)
	if !hmac.Equal([]byte(want), []byte(l.Sig)) {
		return refuse("the signature does not match; check the launch secret and the canonical form (docs/url-scheme.md)")
	}
	ts := time.Unix(l.TS, 0)
	if d := now.Sub(ts); d > Skew || d < -Skew {
		return refuse("ts is %s away from this computer's clock (allowed: %s); check both clocks", d.Round(time.Second).Abs(), Skew)
	}
	return nonces.use(l.Nonce, ts.Add(Skew), now)
}

func (n *Nonces) use(nonce string, until, now time.Time) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.seen == nil {
		n.seen = map[string]time.Time{}
	}
	if !n.loaded && n.File != "" {
		if err := n.load(); err != nil {
			// Without the record, a replay cannot be ruled out.
			return refuse("the record of used nonces (%s) cannot be read: %v; remove it if it is damaged", n.File, err)
		}
	}
	n.loaded = true
	for k, exp := range n.seen {
		if now.After(exp) {
			delete(n.seen, k)
		}
	}
	if _, used := n.seen[nonce]; used {
		return refuse("this nonce was already used (a replayed URL)")
	}
	if len(n.seen) >= maxNonces {
		return refuse("too many signed launches in the last few minutes")
	}
	n.seen[nonce] = until
	if n.File != "" {
		if err := n.save(); err != nil {
			delete(n.seen, nonce)
			return refuse("the nonce cannot be recorded in %s: %v", n.File, err)
		}
	}
	return nil
}

// The file has one "nonce unix-expiry" line per nonce still in its window.
func (n *Nonces) load() error {
	data, err := os.ReadFile(n.File)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		nonce, exp, ok := strings.Cut(line, " ")
		sec, err := strconv.ParseInt(exp, 10, 64)
		if line == "" || !ok || err != nil {
			continue
		}
		n.seen[nonce] = time.Unix(sec, 0)
	}
	return nil
}

func (n *Nonces) save() error {
	var b strings.Builder
	for nonce, exp := range n.seen {
		fmt.Fprintf(&b, "%s %d\n", nonce, exp.Unix())
	}
	if err := os.MkdirAll(filepath.Dir(n.File), 0o700); err != nil {
		return err
	}
	return atomicfile.WriteFile(n.File, []byte(b.String()), 0o600)
}
