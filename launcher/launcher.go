// Package launcher is the heart of a launch: it takes a validated request from
// any channel (IPC, command line, URL), gets the clinician's JWT (cached), and
// hands the page server a launch to show. It also keeps the tray's state and
// routes the notes clinicians push back to the EMR.
//
// Where each step lives:
//
//	launcher/request   what an EMR may ask, and its validation
//	launcher/ipc       the local API (socket / pipe) and its client
//	keystore           the API keys in the OS keychain
//	launcher/heidiapi  the JWT endpoint (and fakeheidi, its stand-in)
//	launcher/tokens    the in-memory token cache
//	launcher/webui     the page on 127.0.0.1 that hosts Heidi's widget
//	launcher/browser   opening that page
//	launcher/outbox    notes pushed back to the EMR
//	tray               the tray icon and menu
package launcher

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/heidi-tray/heidi-tray/keystore"
	"github.com/heidi-tray/heidi-tray/launcher/config"
	"github.com/heidi-tray/heidi-tray/launcher/heidiapi"
	"github.com/heidi-tray/heidi-tray/launcher/outbox"
	"github.com/heidi-tray/heidi-tray/launcher/request"
	"github.com/heidi-tray/heidi-tray/launcher/sessions"
	"github.com/heidi-tray/heidi-tray/launcher/tokens"
	"github.com/heidi-tray/heidi-tray/launcher/urlscheme"
	"github.com/heidi-tray/heidi-tray/launcher/wire"
)

// Keys reads and changes API keys and the launch secret (the keystore).
type Keys interface {
	APIKey(ctx context.Context, region string) (keystore.APIKey, error)
	Status(ctx context.Context, regions []string) ([]keystore.RegionKey, error)
	SetAPIKey(ctx context.Context, region string, key keystore.APIKey) error
	DeleteAPIKey(ctx context.Context, region string) error
	LaunchSecret(ctx context.Context) (keystore.LaunchSecret, error)
	SetLaunchSecret(ctx context.Context, v keystore.LaunchSecret) error
	DeleteLaunchSecret(ctx context.Context) error
}

// TokenSource gets clinicians' JWTs without a key on this machine
// (token_source emr or service; launcher/tokensource). Nil: the keychain.
type TokenSource interface {
	Fetch(ctx context.Context, c request.Clinician) (heidiapi.Token, error)
}

// EMRTokens takes the JWTs an EMR passes (token_source emr).
type EMRTokens interface {
	Provide(c request.Clinician, jwt string, expiresIn time.Duration) error
}

// Launch is one request from the EMR as the page server shows it: the
// id every record made from it carries, the request, and the Heidi session
// stored for its encounter.
type Launch struct {
	ID             string
	Req            request.Open
	HeidiSessionID string // a stored session for this encounter, if any
	// NewWindow: the person asked for a window (the tray's Open Heidi), so
	// none still loading is reused; that one's link stops working.
	NewWindow bool
	// Ask: any web page may have sent this launch (an unsigned URL), so an
	// open window asks the person (Switch / Stay) before changing patient.
	Ask bool
}

// Outcome says what the page server did with a launch.
type Outcome struct {
	Status string // wire.StatusOpened | StatusSwitched | StatusSwitchPending | StatusReplaced
	URL    string // for opened: the one-time URL to open in the browser
}

// Opener opens the page in a browser.
type Opener interface {
	Open(url string) error
}

// Pages is the page server.
type Pages interface {
	Present(l Launch) Outcome
	AskConfirmation(l Launch) string
	SettingsURL() string
	Logout()
	OpenPages() int
	Origin() string
	// Recording reports whether any window records now.
	Recording() bool
	// WindowState describes the window that follows the EMR.
	WindowState() wire.WindowState
}

// Deps are a Launcher's parts.
type Deps struct {
	Settings  config.Settings
	Sandbox   bool
	Version   string
	Keys      Keys
	Heidi     *heidiapi.Client
	Opener    Opener
	Outbox    *outbox.Outbox
	Sessions  *sessions.Store
	Clipboard func(string) error
	Log       *slog.Logger
	Quit      func()
	Endpoint  string
	Config    *config.Config // the loaded settings with their file and sources
	Binding   Binding
	Notify    func(title, body string)
	// Tokens replaces the keychain and Heidi's key exchange when
	// token_source is emr or service; EMRTokens is set for emr.
	Tokens    TokenSource
	EMRTokens EMRTokens
	// LastClinician is who to prefetch a token for (the prefetch setting).
	LastClinician LastClinician
	// NoncesFile keeps the used nonces of signed URLs across restarts.
	NoncesFile string
}

// Launcher is the core: the local API (launcher/ipc) and the page server
// (launcher/webui) call it; it imports neither.
type Launcher struct {
	d      Deps
	cache  *tokens.Cache
	pages  Pages
	hub    hub
	nonces urlscheme.Nonces

	mu         sync.Mutex
	policy     Policy                     // what an administrator can change under a running tray
	keys       map[string]keystore.APIKey // region → key, read once from the keychain
	bound      string                     // hash of the clinician last written to the binding file
	state      State
	recording  bool          // as last published: RecordingChanged asks the pages for the truth
	lastWindow string        // the window state last published, as JSON
	last       *request.Open // for the tray's "Open Heidi"
	onState    []func(State)
}

// The tray's states (wire.StateKind, shared with the local API and the tray).
const (
	StateReady       = wire.StateReady
	StateNeedsSetup  = wire.StateNeedsSetup
	StateUnreachable = wire.StateUnreachable
	StateError       = wire.StateError
	StateRecording   = wire.StateRecording
)

// State is what the tray shows.
type State struct {
	Kind    wire.StateKind
	Message string
	CanOpen bool // a clinician has launched before: "Open Heidi" works
	Sandbox bool
}

// New builds a launcher; call SetPages before serving.
func New(d Deps) *Launcher {
	l := &Launcher{d: d}
	l.policy = Policy{Disabled: d.Settings.Disabled, AllowedEmailDomains: d.Settings.AllowedEmailDomains, RequireSignedURLs: d.Settings.RequireSignedURLs}
	if d.Config != nil {
		l.policy.DisabledBy = d.Config.SourceText("disabled")
	}
	l.nonces.File = d.NoncesFile
	fetch := l.fetch
	if d.Tokens != nil {
		fetch = l.fetchFromSource
	}
	l.cache = tokens.New(tokens.FetchFunc(fetch), tokens.Options{Log: d.Log, ActiveFor: time.Duration(d.Settings.RenewHours) * time.Hour})
	l.hub.init()
	return l
}

// SetPages connects the page server (it needs the launcher as its backend).
func (l *Launcher) SetPages(p Pages) { l.pages = p }

// Close stops background token renewals.
func (l *Launcher) Close() { l.cache.Close(); l.hub.close() }

// Cache exposes the token cache (status, tests).
func (l *Launcher) Cache() *tokens.Cache { return l.cache }

// apiKey reads a region's key once and keeps it in memory: a keychain
// round trip on every cold launch is measurable (docs/performance.md).
// KeysChanged, the settings page and a rejected key drop it.
func (l *Launcher) apiKey(ctx context.Context, region string) (keystore.APIKey, error) {
	l.mu.Lock()
	k, ok := l.keys[region]
	l.mu.Unlock()
	if ok {
		return k, nil
	}
	k, err := l.d.Keys.APIKey(ctx, region)
	if err != nil {
		return k, err
	}
	l.mu.Lock()
	if l.keys == nil {
		l.keys = map[string]keystore.APIKey{}
	}
	l.keys[region] = k
	l.mu.Unlock()
	return k, nil
}

// KeysChanged forgets the keys (and tokens) read so far: the keychain was
// changed by 'heidi-tray key …' or the settings page.
func (l *Launcher) KeysChanged() {
	l.mu.Lock()
	l.keys = nil
	l.mu.Unlock()
	l.cache.Clear()
	l.CheckSetup(context.Background())
}

func (l *Launcher) fetch(ctx context.Context, c request.Clinician) (heidiapi.Token, error) {
	key, err := l.apiKey(ctx, c.Region)
	if err != nil {
		return heidiapi.Token{}, err
	}
	tok, err := l.d.Heidi.FetchJWT(ctx, c.Region, key, c.Email, c.UserID)
	if heidiapi.IsKind(err, heidiapi.KeyRejected) {
		// The keychain may hold a newer key than the one in memory.
		l.mu.Lock()
		delete(l.keys, c.Region)
		l.mu.Unlock()
		if fresh, kerr := l.apiKey(ctx, c.Region); kerr == nil && fresh.Reveal() != key.Reveal() {
			tok, err = l.d.Heidi.FetchJWT(ctx, c.Region, fresh, c.Email, c.UserID)
		}
	}
	if err != nil {
		l.d.Log.Warn("JWT request failed", "clinician", c, "err", err)
		return heidiapi.Token{}, err
	}
	l.d.Log.Info("JWT fetched", "clinician", c, "lifetime", tok.Lifetime.Round(1e9).String())
	return tok, nil
}

// keyless: tokens come from the EMR or the clinic token service, and no
// API key is read or stored on this machine.
func (l *Launcher) keyless() bool { return l.d.Tokens != nil }

// TokenSourceName is the token_source in effect.
func (l *Launcher) TokenSourceName() string {
	if l.d.Settings.TokenSource == "" {
		return "keychain"
	}
	return l.d.Settings.TokenSource
}

// errKeyless refuses key operations when token_source keeps keys off this machine.
func (l *Launcher) errKeyless() error {
	return fmt.Errorf("token_source is %s: this workstation holds no Heidi API key (tokens come from %s); see docs/token-service.md", l.TokenSourceName(), l.sourceWords())
}

func (l *Launcher) sourceWords() string {
	if l.TokenSourceName() == "emr" {
		return "the EMR"
	}
	return "the clinic token service"
}

// fetchFromSource gets a token from the EMR or the clinic token service.
// Its errors are final here: the source has said what to do.
func (l *Launcher) fetchFromSource(ctx context.Context, c request.Clinician) (heidiapi.Token, error) {
	tok, err := l.d.Tokens.Fetch(ctx, c)
	if err != nil {
		l.d.Log.Warn("token request failed", "source", l.TokenSourceName(), "clinician", c, "err", err)
		code := wire.CodeTokenRefused
		var r interface{ Retryable() bool }
		switch {
		case errors.As(err, &r) && r.Retryable(), errors.Is(err, context.DeadlineExceeded):
			code = wire.CodeTokenUnavailable
			l.setState(StateUnreachable, "Cannot get tokens from "+l.sourceWords())
		}
		return heidiapi.Token{}, fail(code, err)
	}
	l.d.Log.Info("JWT obtained", "source", l.TokenSourceName(), "clinician", c, "lifetime", tok.Lifetime.Round(1e9).String())
	if st := l.State(); st.Kind == StateUnreachable {
		l.setState(StateReady, "Ready")
	}
	return tok, nil
}

// ProvideToken takes a token the EMR passes for c (token_source emr).
func (l *Launcher) ProvideToken(_ context.Context, c request.Clinician, jwt string, expiresIn time.Duration) error {
	if l.d.EMRTokens == nil {
		return fail(wire.CodeInvalidRequest, fmt.Errorf("token_source is %s, not emr: this tray does not take tokens from the EMR; leave token out", l.TokenSourceName()))
	}
	if err := l.refusedByPolicy(c); err != nil { // the kill switch and allowed domains, as in force now
		return err
	}
	if err := l.d.EMRTokens.Provide(c, jwt, expiresIn); err != nil {
		l.d.Log.Warn("refused a token from the EMR", "clinician", c, "err", err)
		return fail(wire.CodeTokenRefused, err)
	}
	// A token the EMR passes replaces the cached one: the next Get fetches
	// (and so takes this one) instead of handing out the older token.
	l.cache.Forget(c)
	return nil
}

// AskToken publishes token_needed: the EMR answers with POST /v1/token.
func (l *Launcher) AskToken(c request.Clinician) {
	l.hub.publish(wire.Event{Type: "token_needed", Clinician: &c})
}

func newID() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// Open launches Heidi for a validated request from a trusted channel (the
// local API, the command line, a verified or confirmed URL), and binds the
// clinician for later URL launches.
func (l *Launcher) Open(ctx context.Context, o request.Open, trusted bool) (wire.OpenResult, error) {
	if !trusted {
		return wire.OpenResult{}, fail(wire.CodeUntrusted, errors.New("untrusted launches go through OpenURL"))
	}
	res, _, err := l.launch(ctx, o, true, false, false)
	if err == nil {
		l.bind(o.Clinician)
	}
	return res, err
}

// bind remembers the clinician for URL launches; the file is written only
// when the clinician changes, not on every launch.
func (l *Launcher) bind(c request.Clinician) {
	h := bindingHash(c)
	l.mu.Lock()
	same := l.bound == h
	l.bound = h
	l.mu.Unlock()
	if same {
		return
	}
	if err := l.d.Binding.Set(c); err != nil {
		l.d.Log.Warn("could not remember the clinician", "err", err)
	}
	if l.d.Settings.Prefetch {
		if err := l.d.LastClinician.Set(c); err != nil {
			l.d.Log.Warn("could not remember the clinician for prefetch", "err", err)
		}
	}
}

// launch is every launch's path: policy, token, page. With openBrowser false
// a new page's URL is returned to the caller instead of opened. With ask, an
// open window asks the person before it changes patient (unsigned URLs).
func (l *Launcher) launch(ctx context.Context, o request.Open, openBrowser, newWindow, ask bool) (wire.OpenResult, Outcome, error) {
	if err := o.Validate(); err != nil {
		return wire.OpenResult{}, Outcome{}, err
	}
	p := l.Policy()
	if p.Disabled {
		return wire.OpenResult{}, Outcome{}, p.disabledErr()
	}
	if !request.DomainAllowed(o.Email, p.AllowedEmailDomains) {
		return wire.OpenResult{}, Outcome{}, fail(wire.CodeDomainNotAllowed, l.domainErr(o.Email))
	}
	if _, err := l.cache.Get(ctx, o.Clinician); err != nil {
		return wire.OpenResult{}, Outcome{}, l.classify(o.Clinician, err)
	}
	id := newID()
	wl := Launch{ID: id, Req: o, NewWindow: newWindow, Ask: ask}
	if o.Patient != nil && l.d.Sessions != nil {
		wl.HeidiSessionID = l.d.Sessions.Get(o.Region, o.Email, o.UserID, o.Patient.ID, o.EncounterID)
	}
	out := l.pages.Present(wl)
	// An "opened" without a URL went to a window that is still loading.
	if out.Status == "opened" && out.URL != "" && openBrowser {
		if err := l.d.Opener.Open(out.URL); err != nil {
			l.setState(StateError, "Browser could not be opened")
			return wire.OpenResult{}, Outcome{}, fail(wire.CodeBrowserFailed, err)
		}
	}
	l.mu.Lock()
	last := o
	firstLaunch := l.last == nil
	l.last = &last
	l.mu.Unlock()
	if !l.isRecording() {
		l.setState(StateReady, "Ready")
	}
	if firstLaunch { // "Open Heidi" in the tray menu becomes usable
		l.publishState()
	}
	l.WindowChanged()
	l.d.Log.Info("launch", "clinician", o.Clinician, "patient", o.Patient, "outcome", out.Status, "launch_id", id)
	return wire.OpenResult{Status: out.Status, Message: messages[out.Status], LaunchID: id}, out, nil
}

var messages = map[string]string{
	"opened":         "Heidi is opening in the browser.",
	"switched":       "The open Heidi window now shows this patient.",
	"switch_pending": "A recording (or its note) is outstanding: the Heidi window switches when the clinician has pushed or discarded that note.",
	"replaced":       "The open Heidi window now belongs to this clinician.",
	"confirm":        "The Heidi window asks the clinician whether to switch to this patient.",
}

// Reopen launches the last clinician again (the tray's "Open Heidi").
func (l *Launcher) Reopen(ctx context.Context) error {
	l.mu.Lock()
	last := l.last
	l.mu.Unlock()
	if last == nil {
		return errors.New("no clinician has opened Heidi yet; open it from the EMR")
	}
	_, _, err := l.launch(ctx, *last, true, true, false)
	return err
}

// Logout signs every page out and forgets every token.
func (l *Launcher) Logout(ctx context.Context) error {
	l.pages.Logout()
	l.cache.Clear()
	l.mu.Lock()
	l.last = nil
	l.bound = ""
	l.mu.Unlock()
	// A clinician who signed out is not signed in again by a prefetch.
	if err := l.d.LastClinician.Forget(); err != nil {
		l.d.Log.Warn("could not remove the last clinician record", "err", err)
	}
	l.setState(StateReady, "Signed out")
	l.d.Log.Info("logout")
	return nil
}

// Quit stops the tray.
func (l *Launcher) Quit() {
	if l.d.Quit != nil {
		l.d.Quit()
	}
}

// DefaultRegion is the region setting.
func (l *Launcher) DefaultRegion() string { return l.d.Settings.Region }

// Status reports the tray's state.
func (l *Launcher) Status(ctx context.Context) wire.Status {
	st := l.State()
	var regions []string
	if l.keyless() {
		// no keys to list: none are read on this machine
	} else if ks, err := l.d.Keys.Status(ctx, heidiapi.Regions); err == nil {
		for _, k := range ks {
			regions = append(regions, k.Region)
		}
	}
	s := wire.Status{
		APIVersion: wire.APIVersion, Capabilities: wire.Capabilities,
		Version: l.d.Version, PID: pid(), Sandbox: l.d.Sandbox, State: st.Kind, Message: st.Message,
		Region: l.d.Settings.Region, Environment: l.d.Settings.Environment, KeyRegions: regions,
		Tokens: l.cache.Len(), Endpoint: l.d.Endpoint, TokenSource: l.TokenSourceName(),
	}
	if l.pages != nil {
		s.PageURL = l.pages.Origin()
		s.OpenPages = l.pages.OpenPages()
	}
	return s
}

// CheckSetup sets the initial tray state from the keychain.
func (l *Launcher) CheckSetup(ctx context.Context) {
	if l.Policy().Disabled {
		return // State() says so
	}
	if l.keyless() {
		l.setState(StateReady, "Ready (tokens from "+l.sourceWords()+")")
		return
	}
	_, err := l.d.Keys.APIKey(ctx, l.d.Settings.Region)
	var ue *keystore.UnavailableError
	switch {
	case err == nil:
		l.setState(StateReady, "Ready")
	case errors.Is(err, keystore.ErrNotFound):
		l.setState(StateNeedsSetup, "API key missing for "+l.d.Settings.Region)
	case errors.As(err, &ue):
		l.setState(StateError, "Keychain unavailable")
		l.d.Log.Warn("keychain unavailable", "err", err)
	default:
		l.setState(StateError, "Set-up problem")
		l.d.Log.Warn("set-up check failed", "err", err)
	}
}

// State is the current tray state.
func (l *Launcher) State() State {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.state
	s.CanOpen = l.last != nil
	s.Sandbox = l.d.Sandbox
	if l.recording {
		s.Kind, s.Message = StateRecording, "Recording in Heidi"
	}
	if l.policy.Disabled { // whatever a launch in flight set last
		s.Kind, s.Message = StateError, stateDisabled
	}
	return s
}

// OnState registers a callback for state changes (the tray).
func (l *Launcher) OnState(fn func(State)) {
	l.mu.Lock()
	l.onState = append(l.onState, fn)
	l.mu.Unlock()
}

func (l *Launcher) setState(kind wire.StateKind, msg string) {
	l.mu.Lock()
	changed := l.state.Kind != kind || l.state.Message != msg
	l.state.Kind, l.state.Message = kind, msg
	l.mu.Unlock()
	if changed {
		l.publishState()
	}
}

// publishState sends the current state to the tray and event subscribers.
func (l *Launcher) publishState() {
	l.mu.Lock()
	fns := l.onState
	l.mu.Unlock()
	st := l.State()
	for _, fn := range fns {
		fn(st)
	}
	l.hub.publish(wire.Event{Type: "state", State: st.Kind})
}

func (l *Launcher) isRecording() bool { l.mu.Lock(); defer l.mu.Unlock(); return l.recording }

// Token, RefreshToken, SessionStarted, RecordingChanged and PushNote serve
// the page server (webui.Backend).

func (l *Launcher) Token(ctx context.Context, c request.Clinician) (heidiapi.Token, error) {
	if err := l.refusedByPolicy(c); err != nil {
		return heidiapi.Token{}, err
	}
	tok, err := l.cache.Get(ctx, c)
	if err != nil {
		return tok, l.classify(c, err)
	}
	l.cache.Touch(c)
	return tok, nil
}

func (l *Launcher) RefreshToken(ctx context.Context, c request.Clinician, stale heidiapi.JWT) (heidiapi.Token, error) {
	if err := l.refusedByPolicy(c); err != nil {
		return heidiapi.Token{}, err
	}
	tok, err := l.cache.Refresh(ctx, c, stale)
	if err != nil {
		return tok, l.classify(c, err)
	}
	l.d.Log.Info("token refreshed for the page", "clinician", c)
	return tok, nil
}

// SessionStarted stores the Heidi session started in the view l, against
// that view's patient and encounter (never the window's current one).
func (l *Launcher) SessionStarted(wl Launch, sid string) {
	if l.d.Sessions == nil || wl.Req.Patient == nil {
		return
	}
	if err := l.d.Sessions.Put(wl.Req.Region, wl.Req.Email, wl.Req.UserID, wl.Req.Patient.ID, wl.Req.EncounterID, sid); err != nil {
		l.d.Log.Warn("could not remember the Heidi session", "err", err)
	}
}

// RecordingChanged re-reads whether a window records and publishes a change.
func (l *Launcher) RecordingChanged() {
	now := l.pages.Recording()
	l.mu.Lock()
	changed := l.recording != now
	l.recording = now
	l.mu.Unlock()
	if changed { // State() derives "recording" from the flag
		l.publishState()
	}
}

// Window describes the window that follows the EMR (GET /v1/window).
func (l *Launcher) Window(context.Context) wire.WindowState { return l.pages.WindowState() }

// WindowChanged publishes the window's state when it changed.
func (l *Launcher) WindowChanged() {
	ws := l.pages.WindowState()
	b, _ := json.Marshal(ws)
	l.mu.Lock()
	changed := string(b) != l.lastWindow
	l.lastWindow = string(b)
	l.mu.Unlock()
	if changed {
		l.hub.publish(wire.Event{Type: "window", Window: &ws})
	}
}

// ViewLeft: the window left launch old for launch by ("" when it closed).
// Waiters for old's note learn that it moved on.
func (l *Launcher) ViewLeft(old, by string) {
	if old == "" || old == by {
		return
	}
	l.hub.left(old, by)
}
