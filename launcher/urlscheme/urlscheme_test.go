package urlscheme

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// vector reads the test vector from docs/url-scheme.md, so the document and
// the code cannot drift apart.
func vector(t *testing.T) map[string]string {
	t.Helper()
	doc, err := os.ReadFile("../../docs/url-scheme.md")
	if err != nil {
		t.Fatal(err)
	}
	_, block, ok := strings.Cut(string(doc), "<!-- test-vector")
	if !ok {
		t.Fatal("docs/url-scheme.md has no test vector")
	}
	_, block, _ = strings.Cut(block, "```text\n")
	block, _, _ = strings.Cut(block, "```")
	v := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(block), "\n") {
		k, val, _ := strings.Cut(line, ": ")
		v[k] = val
	}
	return v
}

var vectorTime = time.Unix(1764057600, 0)

func TestDocumentedVectorVerifies(t *testing.T) {
	v := vector(t)
	l, err := Parse(v["url"], "AU")
	if err != nil {
		t.Fatal(err)
	}
	if got := Canonical(l.Action, l.Params); got != strings.ReplaceAll(v["canonical"], `\n`, "\n") {
		t.Fatalf("canonical form differs from the doc:\n%s", got)
	}
	if got := Sign([]byte(v["secret"]), l.Action, l.Params); got != v["sig"] {
		t.Fatalf("sig %s, doc says %s", got, v["sig"])
	}
	if err := Verify(l, []byte(v["secret"]), vectorTime.Add(30*time.Second), &Nonces{}); err != nil {
		t.Fatal(err)
	}
	if l.Open.Email != "dr.b@clinic.example" || l.Open.Patient.Name != "Jane Citizen" || l.Open.Region != "AU" {
		t.Fatalf("%+v", l.Open)
	}
}

func TestSkewReplayAndTampering(t *testing.T) {
	v := vector(t)
	secret := []byte(v["secret"])
	parse := func(u string) URL {
		l, err := Parse(u, "AU")
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	good := parse(v["url"])
	for _, d := range []time.Duration{121 * time.Second, -121 * time.Second, time.Hour} {
		if err := Verify(good, secret, vectorTime.Add(d), &Nonces{}); err == nil || !strings.Contains(err.Error(), "clock") {
			t.Errorf("skew %v: %v", d, err)
		}
	}
	n := &Nonces{}
	if err := Verify(good, secret, vectorTime, n); err != nil {
		t.Fatal(err)
	}
	if err := Verify(good, secret, vectorTime.Add(time.Second), n); err == nil || !strings.Contains(err.Error(), "replayed") {
		t.Fatalf("replay: %v", err)
	}
	tampered := map[string]string{
		"email":        strings.Replace(v["url"], "dr.b%40", "dr.c%40", 1),
		"patient":      strings.Replace(v["url"], "P-1001", "P-1002", 1),
		"added param":  strings.Replace(v["url"], "&ts=", "&region=UK&ts=", 1),
		"dropped dob":  strings.Replace(v["url"], "&patient_dob=1984-03-09", "", 1),
		"ts moved":     strings.Replace(v["url"], "ts=1764057600", "ts=1764057601", 1),
		"other secret": v["url"],
	}
	for name, u := range tampered {
		key := secret
		if name == "other secret" {
			key = []byte("another-secret-0123456789")
		}
		if err := Verify(parse(u), key, vectorTime, &Nonces{}); err == nil || !strings.Contains(err.Error(), "signature does not match") {
			t.Errorf("%s: %v", name, err)
		}
	}
	unsigned := parse("heidi-tray://open?email=dr.b%40clinic.example&user_id=42")
	if err := Verify(unsigned, secret, vectorTime, &Nonces{}); err == nil || !strings.Contains(err.Error(), "not signed") {
		t.Fatalf("unsigned: %v", err)
	}
}

func TestHostileURLs(t *testing.T) {
	cases := []struct{ url, mention string }{
		{"--flag", "must start with heidi-tray://"},
		{`heidi-tray://open?email=a%40b.example&user_id=1" --x`, "space, quote"},
		{"heidi-tray://open?email=a%40b.example&user_id=1%00", "control character"},
		{"heidi-tray://open?email=a%40b.example%0D%0AX-Evil:1&user_id=1", "control character"},
		{"heidi-tray://open?email=a%40b.example&user_id=1\r\n", "control character"},
		{"javascript:alert(1)", "must start with heidi-tray://"},
		{"heidi-tray://javascript:alert(1)", "is not an action"},
		{"heidi-tray://open?email=a%40b.example&user_id=1#frag", "fragments"},
		{"heidi-tray://heidi-tray://open?email=a%40b.example&user_id=1", "is not an action"},
		{"http://evil.example/?heidi-tray://open", "must start with heidi-tray://"},
		{"heidi-tray://open?url=https://evil.example", "unknown parameter \"url\""},
		{"heidi-tray://open?email=a%40b.example&email=c%40d.example&user_id=1", "repeated"},
		{"heidi-tray://open?email=a%40b.example&user_id=1&context=" + strings.Repeat("A", 100<<10), "longer than"},
		{"heidi-tray://open?email=a%40b.example&user_id=1&context=" + strings.Repeat("A", 20000), "context: is longer than"},
		{"heidi-tray://open?email=dr.%D0%B0%40clinic.example&user_id=1", "plain ASCII"},
		{"heidi-tray://open?email=a%40b.example&user_id=%ZZ", "percent-encoded"},
		{"heidi-tray://open?email=a%40b.example&user_id=%FF", "UTF-8"},
		{"heidi-tray://open?email=a%40b.example", "user_id: is required"},
		{"heidi-tray://open?email=a%40b.example&user_id=1&patient_id=P&patient_name=N&patient_dob=1984-02-30", "patient_dob"},
		{"heidi-tray://open?email=a%40b.example&user_id=1;x=1", "ambiguous"},
		{"heidi-tray://open?=x", "no name=value"},
		{"heidi-tray://open?email", "no name=value"},
		{"heidi-tray://logout?email=a%40b.example", "unknown parameter \"email\""},
		{"heidi-tray://open?email=a%40b.example&user_id=1&ts=1&nonce=x&sig=y", "nonce must be"},
		{"heidi-tray://open?email=a%40b.example&user_id=1&sig=" + strings.Repeat("a", 43), "needs all of ts, nonce and sig"},
		{"heidi-tray://open?email=a%40b.example&user_id=1&patient_name=Jane%E2%80%AECitizen&patient_id=1", "control character"},
		{"HEIDI-TRAY://open?email=a%40b.example&user_id=1&region=us", ""},
		{"heidi-tray://open/?email=a%40b.example&user_id=1&patient_id=&patient_name=", ""},
		{"heidi-tray://logout", ""},
	}
	for _, tc := range cases {
		_, err := Parse(tc.url, "AU")
		switch {
		case tc.mention == "" && err != nil:
			t.Errorf("%.60q refused: %v", tc.url, err)
		case tc.mention != "" && (err == nil || !strings.Contains(err.Error(), tc.mention)):
			t.Errorf("%.60q: got %v, want an error mentioning %q", tc.url, err, tc.mention)
		case err != nil && len(err.Error()) > 400:
			t.Errorf("%.60q: error too long to be clear", tc.url)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add("heidi-tray://open?email=dr.b%40clinic.example&user_id=42&patient_id=P-1&patient_name=Jane+Citizen")
	f.Add("heidi-tray://logout")
	f.Add("heidi-tray://open?email=a%40b.example&user_id=1&ts=1764057600&nonce=n0nce-1764057600-abc123&sig=C2JkkbdWEMmhORf4s5Bf8Fp61OWo3WD782Oqp7IddJU")
	f.Fuzz(func(t *testing.T, raw string) {
		l, err := Parse(raw, "AU")
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		if l.Action == "open" {
			if err := l.Open.Validate(); err != nil {
				t.Fatalf("Parse accepted an invalid request: %v", err)
			}
		}
		// Canonical form is deterministic and signing never panics.
		// (Params is a map: its order changes from one walk to the next.)
		if first, again := Canonical(l.Action, l.Params), Canonical(l.Action, l.Params); first != again {
			t.Fatal("canonical form not deterministic")
		}
		Sign([]byte("k"), l.Action, l.Params)
	})
}

// Used nonces survive a restart (a new Nonces on the same file) until their
// URL could no longer be valid; an unreadable record refuses rather than
// forgets.
func TestNoncesPersist(t *testing.T) {
	v := vector(t)
	secret := []byte(v["secret"])
	good, err := Parse(v["url"], "AU")
	if err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "nonces")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) }) // not t.TempDir: Wine cannot remove a renamed-over file
	file := filepath.Join(dir, "state", "nonces")
	if err := Verify(good, secret, vectorTime, &Nonces{File: file}); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(file); err != nil || (runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600) {
		t.Fatalf("nonce file: %v %v", fi, err)
	}
	if err := Verify(good, secret, vectorTime.Add(time.Second), &Nonces{File: file}); err == nil || !strings.Contains(err.Error(), "replayed") {
		t.Fatalf("replay after a restart: %v", err)
	}
	// Expired entries are dropped from the file once a later nonce is used.
	n := &Nonces{File: file}
	if err := n.use("a-later-nonce-000001", vectorTime.Add(time.Hour), vectorTime.Add(10*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(file); strings.Contains(string(data), good.Nonce) || !strings.Contains(string(data), "a-later-nonce-000001") {
		t.Fatalf("nonce file after expiry: %q", data)
	}
	if runtime.GOOS == "windows" {
		return // Wine cannot remove the directory below from a temp dir
	}
	os.Remove(file)
	os.Mkdir(file, 0o700) // unreadable as a file
	if err := Verify(good, secret, vectorTime, &Nonces{File: file}); err == nil || !strings.Contains(err.Error(), "cannot be read") {
		t.Fatalf("unreadable record: %v", err)
	}
}
