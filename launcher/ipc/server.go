package ipc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"os"
	"runtime"
	"slices"
	"strconv"
	"time"

	"github.com/heidi-tray/heidi-tray/launcher/internal/bounded"
	"github.com/heidi-tray/heidi-tray/launcher/internal/strictjson"
	"github.com/heidi-tray/heidi-tray/launcher/request"
	"github.com/heidi-tray/heidi-tray/launcher/wire"
)

// Service is what the tray does for the local API.
type Service interface {
	Open(ctx context.Context, o request.Open, trusted bool) (wire.OpenResult, error)
	// OpenURL handles a heidi-tray:// URL, which anyone may have sent.
	OpenURL(ctx context.Context, raw string) (wire.OpenResult, error)
	Logout(ctx context.Context) error
	Status(ctx context.Context) wire.Status
	// DefaultRegion is the region for requests that name none.
	DefaultRegion() string
	// WaitNote blocks until a note is pushed for the launch, or ctx ends.
	WaitNote(ctx context.Context, launchID string) (*wire.Note, error)
	// Window describes the window that follows the EMR.
	Window(ctx context.Context) wire.WindowState
	// Notes lists unacknowledged notes after a cursor, and the last seq.
	Notes(ctx context.Context, after uint64, limit int) ([]wire.Note, uint64, error)
	// AckNote files a note as done; ClaimNote reserves it for one owner.
	AckNote(ctx context.Context, id, owner string) (already bool, err error)
	ClaimNote(ctx context.Context, id, owner string, lease time.Duration) error
	// LastSeq is the note feed's last sequence number.
	LastSeq() uint64
	// Subscribe streams events until ctx ends.
	Subscribe(ctx context.Context) <-chan wire.Event
	// OpenSettings opens the settings page in the browser.
	OpenSettings() error
	// ProvideToken takes a clinician's JWT from the EMR (token_source emr):
	// with an open request, or answering a token_needed event.
	ProvideToken(ctx context.Context, c request.Clinician, jwt string, expiresIn time.Duration) error
	// KeysChanged tells the tray the keychain changed under it.
	KeysChanged()
	Quit()
}

// coded is an error that names its wire code (the core's launcher.Error).
type coded interface {
	error
	Code() string
}

// httpStatus maps an error code to the HTTP status the local API answers
// with; the code, not the status, is the contract (docs/ipc.md).
var httpStatus = map[string]int{
	wire.CodeInvalidRequest:      http.StatusBadRequest,
	wire.CodeBadJSON:             http.StatusBadRequest,
	wire.CodeBadContentType:      http.StatusUnsupportedMediaType,
	wire.CodeTooLarge:            http.StatusRequestEntityTooLarge,
	wire.CodeNotFound:            http.StatusNotFound,
	wire.CodeMethodNotAllowed:    http.StatusMethodNotAllowed,
	wire.CodeBrowserRefused:      http.StatusForbidden,
	wire.CodeForbiddenPeer:       http.StatusForbidden,
	wire.CodeUntrusted:           http.StatusForbidden,
	wire.CodeDomainNotAllowed:    http.StatusForbidden,
	wire.CodeURLRefused:          http.StatusForbidden,
	wire.CodeDisabled:            http.StatusForbidden,
	wire.CodeKeyMissing:          http.StatusServiceUnavailable,
	wire.CodeKeychainUnavailable: http.StatusServiceUnavailable,
	wire.CodeKeyRejected:         http.StatusBadGateway,
	wire.CodeHeidiRefused:        http.StatusBadGateway,
	wire.CodeRateLimited:         http.StatusTooManyRequests,
	wire.CodeHeidiUnavailable:    http.StatusBadGateway,
	wire.CodeHeidiBadResponse:    http.StatusBadGateway,
	wire.CodeTimeout:             http.StatusGatewayTimeout,
	wire.CodeTokenRefused:        http.StatusForbidden,
	wire.CodeTokenUnavailable:    http.StatusServiceUnavailable,
	wire.CodeBrowserFailed:       http.StatusInternalServerError,
	wire.CodeShuttingDown:        http.StatusServiceUnavailable,
	wire.CodeSuperseded:          http.StatusConflict,
	wire.CodeClaimed:             http.StatusConflict,
	wire.CodeInternal:            http.StatusInternalServerError,
}

func statusFor(code string) int {
	if st, ok := httpStatus[code]; ok {
		return st
	}
	return http.StatusInternalServerError
}

// MaxBody bounds a request body.
const MaxBody = 64 << 10

// Bounds on clients: open connections (each waiting 'open --wait-note' and
// event stream holds one) and how long a body may take to arrive.
const (
	MaxConns    = 64
	BodyTimeout = 10 * time.Second
)

// Server serves the local API on a listener.
type Server struct {
	svc Service
	log *slog.Logger
	hs  *http.Server
	uid int
}

type ctxKey struct{}

// NewServer returns a server for svc.
func NewServer(svc Service, log *slog.Logger) *Server {
	s := &Server{svc: svc, log: log, uid: os.Getuid()}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/open", s.open)
	mux.HandleFunc("POST /v1/url", s.url)
	mux.HandleFunc("POST /v1/logout", s.logout)
	mux.HandleFunc("GET /v1/status", s.status)
	mux.HandleFunc("GET /v1/events", s.events)
	mux.HandleFunc("GET /v1/window", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.svc.Window(r.Context()))
	})
	s.registerNotes(mux)
	mux.HandleFunc("POST /v1/token", s.token)
	mux.HandleFunc("POST /v1/quit", s.quit)
	mux.HandleFunc("POST /v1/setup", s.setup)
	mux.HandleFunc("POST /v1/keys-changed", func(w http.ResponseWriter, r *http.Request) {
		s.svc.KeysChanged()
		writeJSON(w, http.StatusOK, map[string]string{"status": "reloaded"})
	})
	s.hs = &http.Server{
		Handler:           bounded.BodyDeadline(s.guard(mux), BodyTimeout),
		ReadHeaderTimeout: 5 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelError), // includes recovered handler panics, with their stack
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			uid, err := peerUID(bounded.Unwrap(c))
			if err != nil {
				uid = -2
			}
			return context.WithValue(ctx, ctxKey{}, uid)
		},
	}
	return s
}

// Serve blocks until Shutdown, with at most MaxConns connections open.
func (s *Server) Serve(l net.Listener) error {
	err := s.hs.Serve(bounded.Listener(l, MaxConns))
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// Shutdown stops accepting and waits (bounded by ctx) for requests in flight.
func (s *Server) Shutdown(ctx context.Context) error { return s.hs.Shutdown(ctx) }

// guard: same OS user only; never a browser.
func (s *Server) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if runtime.GOOS != "windows" {
			if uid, _ := r.Context().Value(ctxKey{}).(int); uid != s.uid {
				s.log.Warn("refused an IPC connection from another user", "peer_uid", uid)
				writeErr(w, http.StatusForbidden, "forbidden_peer", fmt.Sprintf("connections from uid %d are refused; heidi-tray serves only its own user", uid))
				return
			}
		}
		if r.Header.Get("Origin") != "" || r.Header.Get("Referer") != "" || r.Header.Get("Sec-Fetch-Site") != "" {
			writeErr(w, http.StatusForbidden, "browser_refused", "requests from web pages are refused; call the local API from a program")
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		if bad := unknownParam(r); bad != "" {
			writeErr(w, http.StatusBadRequest, wire.CodeInvalidRequest, fmt.Sprintf("unknown query parameter %q; see docs/ipc.md for the ones %s takes", bad, r.URL.Path))
			return
		}
		next.ServeHTTP(&jsonErrors{ResponseWriter: w}, r)
	})
}

// decodeJSON reads one strict JSON object: right content type, bounded size,
// no unknown fields, nothing after it.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "application/json" {
		writeErr(w, http.StatusUnsupportedMediaType, "bad_content_type", "send the body as Content-Type: application/json")
		return false
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
	if err != nil {
		writeErr(w, http.StatusRequestEntityTooLarge, "too_large", fmt.Sprintf("the body is larger than %d bytes", MaxBody))
		return false
	}
	if err := strictjson.Decode(body, v); err != nil {
		writeErr(w, http.StatusBadRequest, "bad_json", err.Error())
		return false
	}
	return true
}

// DecodeOpen decodes and validates an open request body.
func DecodeOpen(body []byte, defaultRegion string) (request.Open, error) {
	var o request.Open
	if err := strictjson.Decode(body, &o); err != nil {
		return o, err
	}
	if err := o.Normalize(defaultRegion); err != nil {
		return o, err
	}
	return o, nil
}

// openBody is an open request plus, with token_source emr, the clinician's
// JWT: over this local channel only, never in a URL or on a command line.
type openBody struct {
	request.Open
	Token          *string  `json:"token"`
	TokenExpiresIn *float64 `json:"token_expires_in"`
}

func (s *Server) open(w http.ResponseWriter, r *http.Request) {
	var body openBody
	if !decodeJSON(w, r, &body) {
		return
	}
	o := body.Open
	if err := o.Normalize(s.svc.DefaultRegion()); err != nil {
		writeErr(w, http.StatusBadRequest, "invalid_request", err.Error())
		return
	}
	if body.Token != nil || body.TokenExpiresIn != nil {
		if !s.provideToken(w, r, o.Clinician, body.Token, body.TokenExpiresIn) {
			return
		}
	}
	q := r.URL.Query()
	wait := q.Get("wait") == "note"
	if v := q.Get("wait"); v != "" && v != "note" {
		writeErr(w, http.StatusBadRequest, wire.CodeInvalidRequest, "wait must be \"note\"")
		return
	}
	ctx := r.Context()
	if t := q.Get("timeout"); t != "" {
		secs, err := strconv.Atoi(t)
		if !wait || err != nil || secs < 1 || secs > wire.MaxWaitSeconds {
			writeErr(w, http.StatusBadRequest, wire.CodeInvalidRequest, fmt.Sprintf("timeout is a whole number of seconds from 1 to %d, with wait=note", wire.MaxWaitSeconds))
			return
		}
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, time.Duration(secs)*time.Second)
		defer cancel()
	}
	res, err := s.svc.Open(r.Context(), o, true)
	if err != nil {
		s.writeError(w, err)
		return
	}
	if !wait {
		writeJSON(w, http.StatusOK, res)
		return
	}
	note, err := s.svc.WaitNote(ctx, res.LaunchID)
	if err != nil {
		s.writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, wire.WaitedNote{Note: *note, Open: res})
}

// token takes a token from the EMR, usually answering a token_needed event.
func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Email     string   `json:"email"`
		UserID    string   `json:"user_id"`
		Region    string   `json:"region"`
		Token     *string  `json:"token"`
		ExpiresIn *float64 `json:"expires_in"`
	}
	if !decodeJSON(w, r, &in) {
		return
	}
	o := request.Open{Clinician: request.Clinician{Email: in.Email, UserID: in.UserID, Region: in.Region}}
	if err := o.Normalize(s.svc.DefaultRegion()); err != nil {
		writeErr(w, http.StatusBadRequest, wire.CodeInvalidRequest, err.Error())
		return
	}
	if s.provideToken(w, r, o.Clinician, in.Token, in.ExpiresIn) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "accepted"})
	}
}

func (s *Server) provideToken(w http.ResponseWriter, r *http.Request, c request.Clinician, tok *string, expiresIn *float64) bool {
	if tok == nil || *tok == "" || expiresIn == nil {
		writeErr(w, http.StatusBadRequest, wire.CodeInvalidRequest, "token and its expiry (token_expires_in, or expires_in for /v1/token: seconds) go together")
		return false
	}
	if *expiresIn <= 0 || *expiresIn > 31*24*3600 {
		writeErr(w, http.StatusBadRequest, wire.CodeInvalidRequest, "the token's expiry must be from 1 second to 31 days")
		return false
	}
	if err := s.svc.ProvideToken(r.Context(), c, *tok, time.Duration(*expiresIn*float64(time.Second))); err != nil {
		s.writeError(w, err)
		return false
	}
	return true
}

func (s *Server) url(w http.ResponseWriter, r *http.Request) {
	var in struct {
		URL string `json:"url"`
	}
	if !decodeJSON(w, r, &in) {
		return
	}
	res, err := s.svc.OpenURL(r.Context(), in.URL)
	if err != nil {
		s.writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	if r.ContentLength != 0 {
		var empty struct{}
		if !decodeJSON(w, r, &empty) {
			return
		}
	}
	if err := s.svc.Logout(r.Context()); err != nil {
		s.writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "logged_out"})
}

func (s *Server) status(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.svc.Status(r.Context()))
}

func (s *Server) setup(w http.ResponseWriter, r *http.Request) {
	if err := s.svc.OpenSettings(); err != nil {
		s.writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "opened"})
}

func (s *Server) quit(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "quitting"})
	go s.svc.Quit()
}

// events streams newline-delimited JSON events until the client goes away.

func (s *Server) writeError(w http.ResponseWriter, err error) {
	var ce coded
	var re *request.Error
	switch {
	case errors.As(err, &ce):
		writeErr(w, statusFor(ce.Code()), ce.Code(), ce.Error())
	case errors.As(err, &re):
		writeErr(w, http.StatusBadRequest, "invalid_request", err.Error())
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		writeErr(w, http.StatusGatewayTimeout, "timeout", "the request was cancelled or timed out")
	default:
		s.log.Error("IPC request failed", "err", err)
		writeErr(w, http.StatusInternalServerError, "internal", err.Error())
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func writeErr(w http.ResponseWriter, status int, code, msg string) {
	var b wire.ErrorBody
	b.Error.Code, b.Error.Message = code, msg
	writeJSON(w, status, b)
}

// queryParams are the query parameters each endpoint takes; any other is
// refused, so a typo (?afterr=5) fails instead of meaning "from the start".
var queryParams = map[string][]string{
	"/v1/open":   {"wait", "timeout"},
	"/v1/notes":  {"after", "limit"},
	"/v1/events": {"after"},
}

func unknownParam(r *http.Request) string {
	for name := range r.URL.Query() {
		if !slices.Contains(queryParams[r.URL.Path], name) {
			return name
		}
	}
	return ""
}
