// Package tokensource gets clinicians' JWTs without a Heidi key on the
// workstation: from the clinic token service (Kerberos sign-in, see
// launcher/tokenservice), or from the EMR (a token it passes in, checked
// against the launch's clinician). Each source is a tokens.Fetcher.
package tokensource

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/heidi-tray/heidi-tray/launcher/heidiapi"
	"github.com/heidi-tray/heidi-tray/launcher/request"
)

// Negotiator makes a Kerberos (SPNEGO) token for a service principal from
// the signed-in user's credentials: the credential cache on Linux and macOS,
// SSPI (Windows sign-in) on Windows.
type Negotiator interface {
	Negotiate(spn string) ([]byte, error)
}

// Service asks the clinic token service for tokens, trying each URL in
// order: replicas are stateless, so any of them will do.
type Service struct {
	URLs        []string
	SPN         string        // e.g. HTTP/tokens.clinic.example; empty: HTTP/<host of each URL>
	Timeout     time.Duration // per URL, default 5 s
	HTTP        *http.Client  // TLS settings; Timeout is applied per attempt
	Negotiator  Negotiator
	Workstation string // reported for the audit log; default the host name
	UserAgent   string // heidi-tray and its version
}

// Error is a refusal or failure of the token service, safe to show.
type Error struct {
	URL     string
	Status  int
	Code    string // the service's code (forbidden, rate_limited, …) or "unreachable"
	Message string
}

func (e *Error) Error() string {
	switch e.Code {
	case "unreachable":
		return fmt.Sprintf("cannot reach the clinic token service at %s: %s; check the network, or ask clinic IT whether it is running", e.URL, e.Message)
	case "signin":
		return "cannot sign in to the clinic token service: " + e.Message
	}
	return fmt.Sprintf("the clinic token service refused (%s): %s", e.Code, e.Message)
}

// Retryable: another replica may answer (network failure, 5xx). A refusal
// (sign-in, identity policy, rate limit) is the same on every replica.
func (e *Error) Retryable() bool {
	return e.Code == "unreachable" || e.Status >= 500 && e.Code != "no_key"
}

// NewHTTPClient trusts the system roots plus, if given, the PEM file caFile
// (a clinic's private CA).
func NewHTTPClient(caFile string) (*http.Client, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = nil // the service is on the clinic's network, not behind the internet proxy
	tr.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("token_service_ca: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("token_service_ca %s holds no PEM certificate", caFile)
		}
		tr.TLSClientConfig.RootCAs = pool
	}
	return &http.Client{Transport: tr}, nil
}

// ValidateURL accepts https URLs only: the service hands out tokens.
func ValidateURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("token service URL %q must be a plain https:// URL", s)
	}
	return nil
}

// Fetch implements tokens.Fetcher.
func (s *Service) Fetch(ctx context.Context, c request.Clinician) (heidiapi.Token, error) {
	if len(s.URLs) == 0 {
		return heidiapi.Token{}, errors.New("token_source is service but token_service_urls is empty; ask clinic IT to set it")
	}
	var last error
	for _, u := range s.URLs {
		tok, err := s.fetchOne(ctx, u, c)
		if err == nil {
			return tok, nil
		}
		last = err
		var se *Error
		if !errors.As(err, &se) || !se.Retryable() || ctx.Err() != nil {
			return heidiapi.Token{}, err
		}
	}
	return heidiapi.Token{}, last
}

func (s *Service) spnFor(u string) string {
	if s.SPN != "" {
		return s.SPN
	}
	p, _ := url.Parse(u)
	return "HTTP/" + strings.ToLower(p.Hostname())
}

func (s *Service) fetchOne(ctx context.Context, u string, c request.Clinician) (heidiapi.Token, error) {
	if err := ValidateURL(u); err != nil {
		return heidiapi.Token{}, err
	}
	if s.Negotiator == nil {
		return heidiapi.Token{}, &Error{URL: u, Code: "signin", Message: "no Kerberos support in this build"}
	}
	ktok, err := s.Negotiator.Negotiate(s.spnFor(u))
	if err != nil {
		return heidiapi.Token{}, &Error{URL: u, Code: "signin", Message: err.Error()}
	}
	ws := s.Workstation
	if ws == "" {
		ws, _ = os.Hostname()
	}
	body, _ := json.Marshal(map[string]string{"region": c.Region, "email": c.Email, "user_id": c.UserID, "workstation": ws})
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	actx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(actx, http.MethodPost, strings.TrimRight(u, "/")+"/v1/token", bytes.NewReader(body))
	if err != nil {
		return heidiapi.Token{}, err
	}
	req.Header.Set("Authorization", "Negotiate "+base64.StdEncoding.EncodeToString(ktok))
	req.Header.Set("Content-Type", "application/json")
	if s.UserAgent != "" {
		req.Header.Set("User-Agent", s.UserAgent)
	}
	hc := s.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	sent := time.Now()
	resp, err := hc.Do(req)
	if err != nil {
		msg := err.Error()
		var ue *url.Error
		if errors.As(err, &ue) {
			msg = ue.Err.Error()
		}
		if errors.Is(err, context.DeadlineExceeded) {
			msg = "timed out after " + timeout.String()
		}
		return heidiapi.Token{}, &Error{URL: u, Code: "unreachable", Message: msg}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return heidiapi.Token{}, &Error{URL: u, Code: "unreachable", Message: "the answer was cut off"}
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		if json.Unmarshal(b, &e) != nil || e.Error.Code == "" {
			e.Error.Code, e.Error.Message = "unexpected_answer", fmt.Sprintf("HTTP %d", resp.StatusCode)
		}
		return heidiapi.Token{}, &Error{URL: u, Status: resp.StatusCode, Code: clean(e.Error.Code, 40), Message: clean(e.Error.Message, 300)}
	}
	var tr struct {
		Token     string  `json:"token"`
		ExpiresIn float64 `json:"expires_in"`
	}
	if err := json.Unmarshal(b, &tr); err != nil || tr.Token == "" {
		return heidiapi.Token{}, &Error{URL: u, Status: 200, Code: "unexpected_answer", Message: "the answer is not a token"}
	}
	life := time.Duration(tr.ExpiresIn * float64(time.Second))
	tok, err := checkServiceToken(tr.Token, c, life)
	if err != nil {
		return heidiapi.Token{}, &Error{URL: u, Status: 200, Code: "unexpected_answer", Message: err.Error()}
	}
	tok.Expires = sent.Add(life)
	return tok, nil
}

func clean(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	if len(s) > n {
		s = s[:n] + "…"
	}
	return s
}
