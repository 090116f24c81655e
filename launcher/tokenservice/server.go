package tokenservice

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jcmturner/gofork/encoding/asn1"
	"github.com/jcmturner/gokrb5/v8/credentials"
	"github.com/jcmturner/gokrb5/v8/gssapi"
	"github.com/jcmturner/gokrb5/v8/service"
	"github.com/jcmturner/gokrb5/v8/spnego"

	"github.com/heidi-tray/heidi-tray/keystore"
	"github.com/heidi-tray/heidi-tray/launcher/heidiapi"
	"github.com/heidi-tray/heidi-tray/launcher/request"
)

// TokenPath is the mint endpoint; the tray POSTs a TokenRequest to it.
const TokenPath = "/v1/token"

// TokenRequest is what a workstation asks for.
type TokenRequest struct {
	Region      string `json:"region"`
	Email       string `json:"email"`
	UserID      string `json:"user_id"`
	Workstation string `json:"workstation"` // the workstation's host name, as it reports it
}

// TokenResponse carries the JWT and its remaining life in seconds (relative,
// so neither side's clock matters).
type TokenResponse struct {
	Token     string  `json:"token"`
	ExpiresIn float64 `json:"expires_in"`
}

// ErrorResponse is every refusal's body.
type ErrorResponse struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// Refusal codes (also the audit log's result and the metrics' reason label).
const (
	CodeUnauthenticated = "unauthenticated" // no or bad Kerberos ticket
	CodeForbidden       = "forbidden"       // identity policy refused this email
	CodeRateLimited     = "rate_limited"
	CodeBadRequest      = "bad_request"
	CodeNoKey           = "no_key"      // no key for the region
	CodeUpstream        = "heidi_error" // Heidi refused or failed
	CodeOK              = "ok"
)

// Server is one replica. Create with New; Serve until ctx ends; Close.
type Server struct {
	cfg     *Config
	log     *slog.Logger
	keys    keySource
	keytab  *keytabFile
	heidi   *heidiapi.Client
	audit   *auditLog
	limits  *limiter
	metrics *metrics
	now     func() time.Time
}

// Options are for tests and the CLI.
type Options struct {
	Log  *slog.Logger
	HTTP *http.Client // to Heidi; default has a 20 s timeout
	Now  func() time.Time
	// Keychain is where keys_source "keychain" reads (default the OS keychain).
	Keychain Keychain
}

// Keychain reads region keys (keystore.Store).
type Keychain interface {
	APIKey(ctx context.Context, region string) (keystore.APIKey, error)
}

// New loads the keys, keytab and audit log; each is checked now, so a bad
// deployment fails at start with a message saying what to fix.
func New(cfg *Config, o Options) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, log: o.Log, now: o.Now, metrics: newMetrics()}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	var err error
	if cfg.KeysSource == "keychain" {
		kc := o.Keychain
		if kc == nil {
			kc = keystore.OS()
		}
		if s.keys, err = openKeychainKeys(kc); err != nil {
			return nil, err
		}
	} else if s.keys, err = openKeyFile(cfg.KeysFile); err != nil {
		return nil, err
	}
	if s.keytab, err = openKeytab(cfg.Keytab); err != nil {
		return nil, err
	}
	if s.audit, err = openAudit(cfg.AuditLog); err != nil {
		return nil, err
	}
	hc := o.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 20 * time.Second}
	}
	s.heidi = &heidiapi.Client{HTTP: hc, UserAgent: "heidi-tray-tokenservice", Base: func(region string) (string, error) {
		return heidiapi.BaseURL(cfg.Environment, region, cfg.APIBase)
	}}
	s.limits = newLimiter(cfg.PerPrincipalPerMinute, cfg.GlobalPerMinute, s.now)
	return s, nil
}

// Close releases the audit log.
func (s *Server) Close() error { return s.audit.close() }

// Handler serves /v1/token, /healthz and /metrics.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+TokenPath, s.serveToken)
	mux.HandleFunc("GET /healthz", s.serveHealth)
	mux.HandleFunc("GET /metrics", s.metrics.serve)
	return mux
}

// CheckTLS loads the certificate and key (serve --check).
func (s *Server) CheckTLS() error {
	if _, err := tls.LoadX509KeyPair(s.cfg.TLSCert, s.cfg.TLSKey); err != nil {
		return fmt.Errorf("loading the TLS certificate (tls_cert, tls_key): %w", err)
	}
	return nil
}

// Serve runs HTTPS on ln until ctx ends, then shuts down gracefully.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	cert, err := tls.LoadX509KeyPair(s.cfg.TLSCert, s.cfg.TLSKey)
	if err != nil {
		return fmt.Errorf("loading the TLS certificate (tls_cert, tls_key): %w", err)
	}
	srv := &http.Server{
		Handler:           s.Handler(),
		TLSConfig:         &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12},
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
	done := make(chan struct{})
	go func() { // owned by Serve: ends when ctx does or the server fails
		select {
		case <-ctx.Done():
			sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			srv.Shutdown(sctx)
			cancel()
		case <-done:
		}
	}()
	err = srv.ServeTLS(ln, "", "")
	close(done)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

func (s *Server) serveHealth(w http.ResponseWriter, r *http.Request) {
	regions := s.keys.regions(r.Context(), s.log)
	status := http.StatusOK
	body := map[string]any{"status": "ok", "regions": regions}
	if len(regions) == 0 {
		status = http.StatusServiceUnavailable
		body["status"] = "no region keys loaded"
	}
	writeJSON(w, status, body)
}

// identity is the authenticated caller.
type identity struct {
	principal string // user@REALM
	user      string
	realm     string
}

func (s *Server) serveToken(w http.ResponseWriter, r *http.Request) {
	rec := auditRecord{Remote: remoteHost(r.RemoteAddr)}
	refuse := func(status int, code, msg string) {
		rec.Result, rec.Reason = code, msg
		s.audit.write(s.now(), rec, s.log)
		s.metrics.refused(code)
		var e ErrorResponse
		e.Error.Code, e.Error.Message = code, msg
		if status == http.StatusUnauthorized {
			w.Header().Set("WWW-Authenticate", "Negotiate")
		}
		writeJSON(w, status, e)
	}
	id, err := s.authenticate(r)
	if err != nil {
		refuse(http.StatusUnauthorized, CodeUnauthenticated, err.Error())
		return
	}
	rec.Principal = id.principal
	var req TokenRequest
	dec := json.NewDecoder(io.LimitReader(r.Body, 8<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		refuse(http.StatusBadRequest, CodeBadRequest, "the request body is not a token request: "+clip(err.Error()))
		return
	}
	req.Region = strings.ToUpper(req.Region)
	req.Email = strings.ToLower(req.Email)
	rec.Workstation, rec.Email, rec.Region = clip(req.Workstation), clip(req.Email), clip(req.Region)
	o := request.Open{Clinician: request.Clinician{Email: req.Email, UserID: req.UserID, Region: req.Region}}
	if err := o.Validate(); err != nil {
		refuse(http.StatusBadRequest, CodeBadRequest, err.Error())
		return
	}
	if err := s.allowed(id, req.Email); err != nil {
		refuse(http.StatusForbidden, CodeForbidden, err.Error())
		return
	}
	if wait, ok := s.limits.take(id.principal); !ok {
		w.Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds()+0.999)))
		refuse(http.StatusTooManyRequests, CodeRateLimited, fmt.Sprintf("too many token requests; try again in %s", wait.Round(time.Second)))
		return
	}
	key, ok := s.keys.get(r.Context(), req.Region, s.log)
	if !ok {
		refuse(http.StatusServiceUnavailable, CodeNoKey, fmt.Sprintf("the token service holds no key for region %s; ask clinic IT to add it to the keys file", req.Region))
		return
	}
	tok, err := s.heidi.FetchJWT(r.Context(), req.Region, key, req.Email, req.UserID)
	if err != nil {
		s.log.Warn("Heidi refused a token request", "region", req.Region, "principal", id.principal, "err", err)
		status, msg := http.StatusBadGateway, err.Error()
		switch {
		case heidiapi.IsKind(err, heidiapi.BadRequest):
			status = http.StatusBadRequest
		case heidiapi.IsKind(err, heidiapi.KeyRejected): // the advice in err is for a workstation with a key
			msg = fmt.Sprintf("Heidi rejected the token service's key for region %s; clinic IT must replace it (docs/token-service.md, Rotating keys)", req.Region)
		}
		refuse(status, CodeUpstream, msg)
		return
	}
	rec.Result = CodeOK
	s.audit.write(s.now(), rec, s.log)
	s.metrics.minted(req.Region)
	writeJSON(w, http.StatusOK, TokenResponse{Token: tok.JWT.Reveal(), ExpiresIn: time.Until(tok.Expires).Seconds()})
}

// authenticate verifies the SPNEGO/Kerberos token in Authorization: the
// ticket must be for our principal, encrypted with a key in the current
// keytab (a re-keyed service refuses older tickets), within its lifetime.
func (s *Server) authenticate(r *http.Request) (identity, error) {
	h := r.Header.Get("Authorization")
	scheme, b64, _ := strings.Cut(h, " ")
	if !strings.EqualFold(scheme, "Negotiate") || b64 == "" {
		return identity{}, errors.New("sign-in required: send a Kerberos (Negotiate) ticket; is the workstation signed in to the clinic's domain?")
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(b64))
	if err != nil || len(raw) > 48<<10 {
		return identity{}, errors.New("the Negotiate header is not base64 or too large")
	}
	var st spnego.SPNEGOToken
	if err := st.Unmarshal(raw); err != nil {
		var k5 spnego.KRB5Token // a raw Kerberos token, as some clients send
		if k5.Unmarshal(raw) != nil {
			return identity{}, errors.New("the Negotiate token is neither SPNEGO nor Kerberos")
		}
		st = spnego.SPNEGOToken{Init: true, NegTokenInit: spnego.NegTokenInit{MechTypes: []asn1.ObjectIdentifier{k5.OID}, MechTokenBytes: raw}}
	}
	kt := s.keytab.get(s.log)
	opts := []func(*service.Settings){service.MaxClockSkew(time.Duration(s.cfg.MaxClockSkew) * time.Second), service.DecodePAC(false)}
	if s.cfg.SPN != "" {
		opts = append(opts, service.KeytabPrincipal(s.cfg.SPN))
	}
	sp := spnego.SPNEGOService(kt, opts...)
	ok, ctx, status := sp.AcceptSecContext(&st)
	if !ok || status.Code != gssapi.StatusComplete {
		return identity{}, fmt.Errorf("Kerberos ticket refused: %s", clip(status.Message))
	}
	creds, _ := ctx.Value(ctxCredentialsKey).(*credentials.Credentials)
	if creds == nil {
		return identity{}, errors.New("Kerberos ticket carried no identity")
	}
	id := identity{user: creds.UserName(), realm: creds.Domain()}
	id.principal = id.user + "@" + id.realm
	return id, nil
}

// ctxCredentialsKey is where gokrb5's SPNEGO puts the verified credentials.
const ctxCredentialsKey = "github.com/jcmturner/gokrb5/v8/ctxCredentials"

// allowed applies the identity policy.
func (s *Server) allowed(id identity, email string) error {
	for _, d := range s.cfg.DeniedPrincipals {
		if strings.EqualFold(d, id.principal) {
			return fmt.Errorf("principal %s is denied by the token service's policy", id.principal)
		}
	}
	if !request.DomainAllowed(email, s.cfg.AllowedEmailDomains) {
		return fmt.Errorf("%s is not in the clinic's allowed email domains", request.MaskEmail(email))
	}
	switch s.cfg.Identity {
	case Shared:
		return nil
	case Personal:
		want := s.emailFor(id)
		if want == "" {
			return fmt.Errorf("principal %s has no clinician email (no email_map entry, and it is not a plain user for email_rule)", id.principal)
		}
		if !strings.EqualFold(want, email) {
			return fmt.Errorf("principal %s may only get tokens for its own email, not %s", id.principal, request.MaskEmail(email))
		}
		return nil
	}
	return errors.New("no identity policy")
}

func (s *Server) emailFor(id identity) string {
	for p, e := range s.cfg.EmailMap {
		if strings.EqualFold(p, id.principal) {
			return strings.ToLower(e)
		}
	}
	if s.cfg.EmailRule == "" || strings.ContainsAny(id.user, "/@") { // services and hosts are not clinicians
		return ""
	}
	e := strings.NewReplacer("{user}", strings.ToLower(id.user), "{realm}", strings.ToLower(id.realm)).Replace(s.cfg.EmailRule)
	if request.ValidateEmail(e) != nil {
		return ""
	}
	return e
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func remoteHost(addr string) string {
	if h, _, err := net.SplitHostPort(addr); err == nil {
		return h
	}
	return addr
}

func clip(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	if len(s) > 200 {
		return s[:200] + "…"
	}
	return s
}

// limiter: a token bucket per principal and one for the whole replica.
type limiter struct {
	mu        sync.Mutex
	per, all  int
	now       func() time.Time
	buckets   map[string]*bucket
	global    bucket
	lastSweep time.Time
}

type bucket struct {
	tokens float64
	at     time.Time
}

func newLimiter(per, all int, now func() time.Time) *limiter {
	return &limiter{per: per, all: all, now: now, buckets: map[string]*bucket{}, global: bucket{tokens: float64(all), at: now()}}
}

func (b *bucket) refill(now time.Time, capacity int) {
	b.tokens = min(float64(capacity), b.tokens+now.Sub(b.at).Minutes()*float64(capacity))
	b.at = now
}

// take spends one token from both buckets, or says how long to wait.
func (l *limiter) take(principal string) (time.Duration, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if now.Sub(l.lastSweep) > window { // forget principals whose buckets are full again
		for p, b := range l.buckets {
			if now.Sub(b.at) > window {
				delete(l.buckets, p)
			}
		}
		l.lastSweep = now
	}
	b := l.buckets[principal]
	if b == nil {
		b = &bucket{tokens: float64(l.per), at: now}
		l.buckets[principal] = b
	}
	b.refill(now, l.per)
	l.global.refill(now, l.all)
	if b.tokens < 1 || l.global.tokens < 1 {
		need := max(1-b.tokens, 0) / float64(l.per)
		if l.global.tokens < 1 {
			need = max(need, (1-l.global.tokens)/float64(l.all))
		}
		return time.Duration(need * float64(window)), false
	}
	b.tokens--
	l.global.tokens--
	return 0, true
}
