package tokensource

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/heidi-tray/heidi-tray/launcher/request"
)

func jwtWith(claims map[string]any) string {
	enc := base64.RawURLEncoding
	p, _ := json.Marshal(claims)
	return enc.EncodeToString([]byte(`{"alg":"HS256"}`)) + "." + enc.EncodeToString(p) + ".c2ln"
}

func TestCheckToken(t *testing.T) {
	c := request.Clinician{Email: "alice@clinic.example", UserID: "emr-1", Region: "AU"}
	exp := time.Now().Add(time.Hour).Unix()
	cases := []struct {
		name, tok, wantErr string
		life               time.Duration
	}{
		{"own email", jwtWith(map[string]any{"email": "Alice@clinic.example", "exp": exp}), "", 0},
		{"own sub, no email", jwtWith(map[string]any{"sub": "emr-1", "exp": exp}), "", 0},
		{"stated expiry only", jwtWith(map[string]any{"email": "alice@clinic.example"}), "", time.Hour},
		{"other email", jwtWith(map[string]any{"email": "bob@clinic.example", "sub": "emr-1", "exp": exp}), "not the launch's clinician", 0},
		{"other sub", jwtWith(map[string]any{"sub": "emr-2", "exp": exp}), "subject is not", 0},
		{"no identity", jwtWith(map[string]any{"exp": exp}), "names no clinician", 0},
		{"expired", jwtWith(map[string]any{"email": "alice@clinic.example", "exp": time.Now().Add(-time.Minute).Unix()}), "expired", 0},
		{"no expiry at all", jwtWith(map[string]any{"email": "alice@clinic.example"}), "expiry is missing", 0},
		{"far future", jwtWith(map[string]any{"email": "alice@clinic.example", "exp": time.Now().Add(365 * 24 * time.Hour).Unix()}), "implausibly", 0},
		{"not a JWT", "abc.def", "not a JWT", 0},
		{"bad chars", "a b.c.d", "characters", 0},
		{"payload not JSON", "eyJ9.bm90anNvbg.c2ln", "not a JSON object", 0},
		{"too long", strings.Repeat("a", 17<<10), "longer than 16 KiB", 0},
	}
	for _, tc := range cases {
		tok, err := checkToken(tc.tok, c, tc.life)
		if tc.wantErr == "" {
			if err != nil {
				t.Errorf("%s: %v", tc.name, err)
			} else if tok.JWT.Reveal() != tc.tok || time.Until(tok.Expires) < 59*time.Minute {
				t.Errorf("%s: token %v expires %v", tc.name, tok.JWT, tok.Expires)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("%s: err %v, want %q", tc.name, err, tc.wantErr)
		}
	}
	// From the token service, identity claims are optional (the service
	// decided), but one that names someone else is still refused.
	if _, err := checkServiceToken(jwtWith(map[string]any{"sub": "kp_123", "exp": exp}), c, 0); err != nil {
		t.Errorf("service token with another kind of sub: %v", err)
	}
	if _, err := checkServiceToken(jwtWith(map[string]any{"email": "bob@clinic.example", "exp": exp}), c, 0); err == nil {
		t.Error("service token for another email accepted")
	}
	// A stated expiry later than the token's own exp is cut to exp.
	tok, err := checkToken(jwtWith(map[string]any{"email": "alice@clinic.example", "exp": time.Now().Add(10 * time.Minute).Unix()}), c, 2*time.Hour)
	if err != nil || time.Until(tok.Expires) > 11*time.Minute {
		t.Fatalf("exp should bound the stated lifetime: %v %v", tok.Expires, err)
	}
}

func TestServiceConfigRefusals(t *testing.T) {
	for _, spn := range []string{"", "HTTP", "HTTP/", "/host", "HTTP/host name", "HTTP/héllo"} {
		if validSPN(spn) == nil {
			t.Errorf("SPN %q accepted", spn)
		}
	}
	for _, u := range []string{"http://tokens.clinic.example", "https://", "https://u:p@host", "https://host/?q=1", "ftp://host"} {
		if ValidateURL(u) == nil {
			t.Errorf("URL %q accepted", u)
		}
	}
	if err := ValidateURL("https://tokens.clinic.example:8443"); err != nil {
		t.Error(err)
	}
}
