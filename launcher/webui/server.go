// Package webui is the page server on 127.0.0.1 that hosts Heidi's widget for
// a desktop EMR. The browser arrives with a single-use code (never a token),
// trades it for an HttpOnly session cookie, and then fetches the JWT with a
// same-origin POST. Every request passes the local-web defences in guard.go.
package webui

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/heidi-tray/heidi-tray/assets"
	"github.com/heidi-tray/heidi-tray/launcher"
	"github.com/heidi-tray/heidi-tray/launcher/heidiapi"
	"github.com/heidi-tray/heidi-tray/launcher/internal/atomicfile"
	"github.com/heidi-tray/heidi-tray/launcher/internal/bounded"
	"github.com/heidi-tray/heidi-tray/launcher/peeruser"
	"github.com/heidi-tray/heidi-tray/launcher/request"
)

// Widget script URLs (heidi.md §4).
const (
	ProductionWidget = "https://widget.heidihealth.com/widget/heidi.js"
	StagingWidget    = "https://registrar.widget.heidihealth.com/staging/widget/heidi.js"
	SandboxWidget    = "/assets/sdk/heidi-sandbox.js"
)

// CodeTTL is how long a launch code can be redeemed.
const CodeTTL = 60 * time.Second

// Widget pages and the settings page have separate cookies, so opening
// Set up… never signs a Heidi window out.
const (
	cookieName     = "heidi_tray_session"
	settingsCookie = "heidi_tray_settings"
)

// maxPages bounds remembered page sessions.
const maxPages = 32

// Bounds on clients: open connections (a browser keeps about six per
// origin, plus one event stream per window) and how long a request body may
// take to arrive (headers: ReadHeaderTimeout).
const (
	MaxConns    = 64
	BodyTimeout = 10 * time.Second
)

// Backend is what the page server needs from the core: the widget page's
// calls, the confirmation page's and the settings page's. Keys and secrets
// go straight into the keychain and never come back out, only masked.
type Backend interface {
	Token(ctx context.Context, c request.Clinician) (heidiapi.Token, error)
	RefreshToken(ctx context.Context, c request.Clinician, stale heidiapi.JWT) (heidiapi.Token, error)
	// PushNote files a note under l, the view it was pushed from
	// (l.HeidiSessionID is that view's Heidi session).
	PushNote(ctx context.Context, l launcher.Launch, kind string, payload []byte) (message string, err error)
	SessionStarted(l launcher.Launch, heidiSessionID string)
	// RecordingChanged: a window started or stopped recording (ask Recording).
	RecordingChanged()
	// ViewLeft: the window left launch old for launch by ("" when it closed).
	// Called with the page server's lock held: it must not call back.
	ViewLeft(old, by string)
	// WindowChanged: what WindowState reports may have changed.
	WindowChanged()
	ConfirmLaunch(ctx context.Context, l launcher.Launch) (launcher.Outcome, error)

	SettingsState(ctx context.Context) (launcher.SettingsState, error)
	SetKey(ctx context.Context, region, key string) error
	DeleteKey(ctx context.Context, region string) error
	SetSecret(ctx context.Context, secret string) error
	DeleteSecret(ctx context.Context) error
	SavePrefs(ctx context.Context, region, environment string) error
	TestConnection(ctx context.Context, region string) (string, error)
}

// Options configure the server.
type Options struct {
	WidgetScript string
	ProductName  string
	Sandbox      bool
	Log          *slog.Logger
	Now          func() time.Time
	Heartbeat    time.Duration // default Heartbeat (tests shorten it)
	GoneAfter    time.Duration // default goneAfter (tests shorten it)
	// SessionGoneAfter: default sessionGoneAfter (tests shorten it).
	SessionGoneAfter time.Duration
}

// Server is the page server.
type Server struct {
	opt     Options
	backend Backend
	origin  string // http://127.0.0.1:PORT
	hosts   map[string]bool
	csp     string
	hs      *http.Server
	files   http.Handler

	mu       sync.Mutex
	codes    map[string]*pendingCode
	confirms map[string]*pendingCode
	pages    map[string]*page
	runID    string // this run of the tray: a page that sees another one no longer follows the EMR
	seq      uint64 // launches presented so far: orders them
	timers   map[*time.Timer]struct{}
	closed   bool
}

// New returns a server for the listener's port.
func New(l net.Listener, b Backend, opt Options) *Server {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Log == nil {
		opt.Log = slog.New(slog.DiscardHandler)
	}
	port := l.Addr().(*net.TCPAddr).Port
	s := &Server{
		opt:      opt,
		backend:  b,
		origin:   "http://127.0.0.1:" + strconv.Itoa(port),
		hosts:    map[string]bool{"127.0.0.1:" + strconv.Itoa(port): true, "localhost:" + strconv.Itoa(port): true},
		codes:    map[string]*pendingCode{},
		confirms: map[string]*pendingCode{},
		pages:    map[string]*page{},
		runID:    randomID()[:16],
	}
	s.csp = contentSecurityPolicy(opt.WidgetScript)
	sub, _ := fs.Sub(assets.Web, ".")
	s.files = http.StripPrefix("/assets/", http.FileServer(http.FS(noDirs{sub})))
	mux := http.NewServeMux()
	mux.HandleFunc("GET /launch", s.redeem)
	mux.HandleFunc("GET /{$}", s.index)
	mux.Handle("GET /assets/", s.files)
	mux.HandleFunc("GET /api/events", s.events)
	mux.HandleFunc("POST /api/session", s.apiSession)
	mux.HandleFunc("POST /api/token", s.apiToken)
	mux.HandleFunc("POST /api/push", s.apiPush)
	mux.HandleFunc("POST /api/recording", s.apiRecording)
	mux.HandleFunc("POST /api/session-started", s.apiSessionStarted)
	mux.HandleFunc("POST /api/discard", s.apiDiscard)
	mux.HandleFunc("POST /api/shown", s.apiShown)
	mux.HandleFunc("POST /api/switch", s.apiAnswer(true))
	mux.HandleFunc("POST /api/stay", s.apiAnswer(false))
	mux.HandleFunc("GET /confirm", s.confirmPage)
	s.registerSettings(mux)
	mux.HandleFunc("POST /api/confirm", s.apiConfirm)
	s.hs = &http.Server{
		Handler:           bounded.BodyDeadline(s.guard(mux), BodyTimeout),
		ReadHeaderTimeout: 5 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    32 << 10,
		ErrorLog:          slog.NewLogLogger(opt.Log.Handler(), slog.LevelError), // includes recovered handler panics, with their stack
	}
	return s
}

// Origin is the page server's origin, http://127.0.0.1:PORT.
func (s *Server) Origin() string { return s.origin }

// Serve blocks until Shutdown. It answers only connections from this OS
// user (on a shared host every user can reach 127.0.0.1), at most MaxConns
// at a time.
func (s *Server) Serve(l net.Listener) error {
	// The cap is under the peer check: a connection being checked holds a
	// slot, and one refused gives it back when closed.
	l = peeruser.Listener(bounded.Listener(l, MaxConns), s.opt.Log)
	if err := s.hs.Serve(l); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// Shutdown signs every page out and stops the server.
func (s *Server) Shutdown(ctx context.Context) error {
	s.closeAll("logout")
	return s.hs.Shutdown(ctx)
}

func randomID() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// pageSecretHeader carries a page's secret on its API calls; the event
// stream (EventSource sends no headers) carries it as ?page=.
const pageSecretHeader = "X-Heidi-Tray-Page"

// pageFor is the widget page of the request's cookie and page secret.
func (s *Server) pageFor(r *http.Request) *page { return s.pageByCookie(r, cookieName, false, true) }

// pageByCookie finds the page of the request's cookie; with withSecret the
// request must also carry that page's secret. A cookie alone can be
// replayed by a page on another 127.0.0.1 port (cookies ignore ports).
func (s *Server) pageByCookie(r *http.Request, name string, settings, withSecret bool) *page {
	c, err := r.Cookie(name)
	if err != nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.pages[c.Value]
	if p == nil || p.settings != settings {
		return nil
	}
	if withSecret {
		got := r.Header.Get(pageSecretHeader)
		if got == "" && r.Method == http.MethodGet {
			got = r.URL.Query().Get("page")
		}
		if subtle.ConstantTimeCompare([]byte(got), []byte(p.secret)) != 1 {
			return nil
		}
	}
	p.lastActive = s.opt.Now()
	return p
}

// redeem trades a one-time code for a session cookie and a clean URL.
func (s *Server) redeem(w http.ResponseWriter, r *http.Request) {
	code := r.URL.Query().Get("code")
	s.mu.Lock()
	pc := s.codes[code]
	delete(s.codes, code) // single use, whatever happens next
	valid := pc != nil && !s.opt.Now().After(pc.expires)
	var id, secret string
	if valid {
		p := s.newPageLocked(pc)
		id, secret = p.id, p.secret
	}
	s.mu.Unlock()
	if !valid {
		s.errorPage(w, http.StatusForbidden, "This link has expired", "Links from your EMR work once, for 60 seconds. Open Heidi again from your EMR.")
		return
	}
	name, next := cookieName, "/"
	if pc.launch.ID == settingsLaunch {
		name, next = settingsCookie, "/settings"
	}
	// The page secret travels in the fragment, which no server and no
	// Referer sees; the page moves it to sessionStorage and drops it from
	// the address.
	next += "#page=" + secret
	http.SetCookie(w, &http.Cookie{Name: name, Value: id, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode})
	if r.Header.Get("Sec-Fetch-Site") == "cross-site" {
		// Arrived from the redirect file: a redirect would keep the load
		// cross-site (no Strict cookie, refused by the guard), so the page
		// takes the last step itself, from this origin.
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><meta charset="utf-8"><meta http-equiv="refresh" content="0;url=%s"><title>Opening Heidi…</title>`, next)
		return
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (s *Server) trimPagesLocked() {
	for len(s.pages) > maxPages {
		var old *page
		for _, p := range s.pages {
			if len(p.subs) == 0 && (old == nil || p.lastActive.Before(old.lastActive)) {
				old = p
			}
		}
		if old == nil {
			return
		}
		s.forgetPageLocked(old, "")
		delete(s.pages, old.id)
	}
}

func (s *Server) index(w http.ResponseWriter, r *http.Request) {
	data, err := assets.Web.ReadFile("web/page.html")
	if err != nil {
		http.Error(w, "missing page", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write(data)
}

func (s *Server) errorPage(w http.ResponseWriter, status int, title, text string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	fmt.Fprintf(w, `<!doctype html><meta charset="utf-8"><title>heidi-tray</title><link rel="stylesheet" href="/assets/web/page.css"><section class="state"><h1>%s</h1><p>%s</p></section>`, htmlEscape(title), htmlEscape(text))
}

func htmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&#34;", "'", "&#39;").Replace(s)
}

// ListenLoopback opens the page server's port: the configured one, else the
// one remembered in stateFile (so the browser keeps its microphone
// permission for the origin), else a new one that is then remembered.
func ListenLoopback(configured int, stateFile string, log *slog.Logger) (net.Listener, error) {
	if configured != 0 {
		l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(configured))
		if err != nil {
			return nil, fmt.Errorf("the configured port %d is not available (%w); free it or change the port setting", configured, err)
		}
		return l, nil
	}
	if data, err := os.ReadFile(stateFile); err == nil {
		if port, err := strconv.Atoi(strings.TrimSpace(string(data))); err == nil && port >= 1024 && port <= 65535 {
			l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
			if err == nil {
				return l, nil
			}
			log.Warn("the remembered page port is busy; using another for now (the browser may ask for microphone access again)", "port", port, "err", err)
			return net.Listen("tcp", "127.0.0.1:0")
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("opening a loopback port: %w", err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	if err := os.MkdirAll(filepath.Dir(stateFile), 0o700); err == nil {
		if err := atomicfile.WriteFile(stateFile, []byte(strconv.Itoa(port)+"\n"), 0o600); err != nil {
			log.Warn("could not remember the page port", "err", err)
		}
	}
	return l, nil
}

// noDirs hides directories, so /assets/ lists nothing.
type noDirs struct{ fs.FS }

func (n noDirs) Open(name string) (fs.File, error) {
	f, err := n.FS.Open(name)
	if err != nil {
		return nil, err
	}
	if fi, err := f.Stat(); err != nil || fi.IsDir() {
		f.Close()
		return nil, fs.ErrNotExist
	}
	return f, nil
}
