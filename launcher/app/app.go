// Package app is heidi-tray's composition root: it provisions every part of
// the long-running tray in one place (keys, the Heidi client, the core, the
// page server, the local API), runs them, and shuts them down in one order.
// 'run', 'sandbox', the fault tests and the benchmark binary all start the
// tray through it, so there is one wiring to get right.
package app

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/heidi-tray/heidi-tray/keystore"
	"github.com/heidi-tray/heidi-tray/launcher"
	"github.com/heidi-tray/heidi-tray/launcher/browser"
	"github.com/heidi-tray/heidi-tray/launcher/clipboard"
	"github.com/heidi-tray/heidi-tray/launcher/config"
	"github.com/heidi-tray/heidi-tray/launcher/heidiapi"
	"github.com/heidi-tray/heidi-tray/launcher/heidiapi/fakeheidi"
	"github.com/heidi-tray/heidi-tray/launcher/ipc"
	"github.com/heidi-tray/heidi-tray/launcher/netproxy"
	"github.com/heidi-tray/heidi-tray/launcher/notify"
	"github.com/heidi-tray/heidi-tray/launcher/outbox"
	"github.com/heidi-tray/heidi-tray/launcher/paths"
	"github.com/heidi-tray/heidi-tray/launcher/policywatch"
	"github.com/heidi-tray/heidi-tray/launcher/sessions"
	"github.com/heidi-tray/heidi-tray/launcher/tokensource"
	"github.com/heidi-tray/heidi-tray/launcher/unlock"
	"github.com/heidi-tray/heidi-tray/launcher/webui"
)

// SandboxKey is the API key the sandbox's fake Heidi accepts.
const SandboxKey = "sandbox-not-a-real-key"

// Options say what differs between the real tray, the sandbox and a test.
// A nil part is provisioned the way the real tray does it.
type Options struct {
	Version string
	Config  *config.Config // the loaded settings with their sources
	Sandbox bool           // a fake Heidi, in-memory keys, the SDK stand-in
	Log     *slog.Logger

	// StateDir holds the outbox, sessions, binding and port files.
	StateDir string
	// IPC is the local API's listener (the single-instance endpoint).
	IPC      net.Listener
	Endpoint string // its path, for status

	Keys      launcher.Keys
	Opener    launcher.Opener
	Clipboard func(string) error
	Notify    func(title, body string)
	// HeidiHTTP and HeidiBase override the client to Heidi (tests).
	HeidiHTTP *http.Client
	HeidiBase func(region string) (string, error)
	// HeidiBackoff is the client's retry back-off (tests shorten it).
	HeidiBackoff time.Duration
	// Negotiator overrides how the tray signs in to the clinic token
	// service (tests: a credential cache of the test realm).
	Negotiator tokensource.Negotiator
	// TestCAFile is a PEM file of extra trust roots for the connection to an
	// api_base override (the bench's and tests' fake Heidi over TLS); it is
	// ignored for Heidi's own hosts (HEIDI_TRAY_TEST_CA_FILE).
	TestCAFile string
	// Quit is called when someone asks the tray to stop (menu, IPC).
	Quit func()

	// Reload re-reads the settings; with it the tray watches WatchFiles
	// and (on Windows) the policy registry keys, and puts a changed kill
	// switch or allowed_email_domains in force at once (policywatch).
	Reload        func() (*config.Config, error)
	WatchFiles    []string
	WatchInterval time.Duration // default 2 s
	// OnConfig is told of every changed configuration (the tray menu).
	OnConfig func(*config.Config)
}

// App is a provisioned tray: call Start, then Close.
type App struct {
	Launcher *launcher.Launcher
	Pages    *webui.Server
	API      *ipc.Server
	Settings config.Settings
	// Conns keeps the connections to Heidi warm (nil with HeidiHTTP).
	Conns *heidiapi.Conns

	opt      Options
	base     func(region string) (string, error)
	ctx      context.Context // ends at Close: background warm-ups stop
	cancel   context.CancelFunc
	bgMu     sync.Mutex // Resumed vs Close
	unlock   unlock.Watcher
	log      *slog.Logger
	pageLn   net.Listener
	cleanups []func() // in reverse order of provisioning
	wg       sync.WaitGroup
	stopBg   context.CancelFunc // background work started by Start
	failed   chan struct{}
	failOnce sync.Once
	closed   sync.Once
	stop     chan struct{} // closed by Close: background loops end
	outbox   *outbox.Outbox
}

// New provisions every part; nothing serves until Start. On error, what was
// provisioned is cleaned up.
func New(opt Options) (_ *App, err error) {
	if opt.Config == nil {
		return nil, errors.New("app: no configuration")
	}
	if opt.Log == nil {
		opt.Log = slog.New(slog.DiscardHandler)
	}
	a := &App{opt: opt, log: opt.Log, Settings: opt.Config.Settings, failed: make(chan struct{}), stop: make(chan struct{})}
	a.ctx, a.cancel = context.WithCancel(context.Background())
	defer func() {
		if err != nil {
			a.cleanup()
		}
	}()
	settings := &a.Settings

	base := opt.HeidiBase
	if base == nil {
		base = func(region string) (string, error) {
			return heidiapi.BaseURL(settings.Environment, region, settings.APIBase)
		}
	}
	widget := WidgetScript(*settings, opt.Sandbox)
	keys := opt.Keys
	if opt.Sandbox {
		if opt.HeidiBase == nil {
			fakeURL, stop, err := startFakeHeidi(opt.Log)
			if err != nil {
				return nil, err
			}
			a.cleanups = append(a.cleanups, stop)
			base = func(string) (string, error) { return fakeURL, nil }
		}
		if keys == nil {
			mem := keystore.Memory()
			for _, r := range heidiapi.Regions {
				mem.SetAPIKey(context.Background(), r, keystore.NewAPIKey(SandboxKey))
			}
			keys = mem
		}
		settings.ProductName = "heidi-tray SANDBOX"
	}
	if keys == nil {
		keys = keystore.OS()
	}

	stateDir := opt.StateDir
	if stateDir == "" {
		if stateDir, err = paths.StateDir(); err != nil {
			return nil, err
		}
		if opt.Sandbox {
			stateDir = filepath.Join(stateDir, "sandbox") // sandbox notes never mix with real ones
		}
	}
	if err := paths.EnsurePrivateDir(stateDir); err != nil {
		return nil, err
	}
	box, err := outbox.Open(filepath.Join(stateDir, "outbox"), settings.AckedNoteRetention)
	if err != nil {
		return nil, err
	}
	a.outbox = box
	sess, err := sessions.Open(filepath.Join(stateDir, "sessions.json"))
	if err != nil {
		return nil, err
	}

	httpClient := opt.HeidiHTTP
	if httpClient == nil {
		var roots *x509.CertPool
		if opt.TestCAFile != "" && settings.APIBase != "" {
			if roots, err = heidiapi.TrustRoots(opt.TestCAFile); err != nil {
				return nil, err
			}
		}
		httpClient, a.Conns = heidiapi.NewWarmClient(heidiapi.NewTransport(netproxy.Func(), roots),
			heidiapi.ConnsOptions{Log: opt.Log, OnResume: func() { a.warmUp(a.ctx, "resume") }})
		a.cleanups = append(a.cleanups, a.Conns.Stop)
	}
	a.base = base
	opener := opt.Opener
	if opener == nil {
		bo := browser.New(settings.Browser, filepath.Join(stateDir, "open"), opt.Log)
		a.cleanups = append(a.cleanups, bo.Close)
		opener = bo
	}
	clip := opt.Clipboard
	if clip == nil {
		clip = clipboard.Copy
		a.cleanups = append(a.cleanups, clipboard.Release) // on X11 the tray serves the clipboard
	}
	note := opt.Notify
	if note == nil {
		note = notify.Notifier{Log: opt.Log, Sandbox: opt.Sandbox}.Send
	}
	quit := opt.Quit
	if quit == nil {
		quit = func() {}
	}

	source, emr, err := tokenSource(*settings, opt)
	if err != nil {
		return nil, err
	}

	pageLn, err := webui.ListenLoopback(settings.Port, filepath.Join(stateDir, "port"), opt.Log)
	if err != nil {
		return nil, err
	}
	a.pageLn = pageLn
	a.cleanups = append(a.cleanups, func() { pageLn.Close() })

	a.Launcher = launcher.New(launcher.Deps{
		Settings: *settings, Sandbox: opt.Sandbox, Version: opt.Version, Keys: keys,
		Heidi:  &heidiapi.Client{HTTP: httpClient, Base: base, Backoff: opt.HeidiBackoff, UserAgent: "heidi-tray/" + opt.Version},
		Opener: opener, Outbox: box, Sessions: sess, Clipboard: clip, Log: opt.Log, Quit: quit,
		Endpoint: opt.Endpoint, Config: opt.Config, Binding: launcher.Binding{Path: filepath.Join(stateDir, "binding")},
		NoncesFile: filepath.Join(stateDir, "nonces"),
		Notify:     note, Tokens: source, EMRTokens: emr,
		LastClinician: launcher.LastClinician{Path: filepath.Join(stateDir, "last-clinician.json")},
	})
	if emr != nil {
		emr.Ask = a.Launcher.AskToken // the EMR answers on the event feed
	}
	a.cleanups = append(a.cleanups, a.Launcher.Close) // idempotent: Close calls it first
	// The core and the page server call each other: the page server is
	// built on the core, then handed to it, here and nowhere else.
	a.Pages = webui.New(pageLn, a.Launcher, webui.Options{WidgetScript: widget, ProductName: settings.ProductName, Sandbox: opt.Sandbox, Log: opt.Log})
	a.Launcher.SetPages(a.Pages)
	a.API = ipc.NewServer(a.Launcher, opt.Log)
	return a, nil
}

// tokenSource builds the token source token_source names; nil for the
// keychain (the launcher then exchanges the key itself).
func tokenSource(s config.Settings, opt Options) (launcher.TokenSource, *tokensource.EMR, error) {
	switch s.TokenSource {
	case "emr":
		emr := &tokensource.EMR{}
		if s.TokenCommand != "" {
			emr.TokenCommand = []string{s.TokenCommand}
		}
		return emr, emr, nil
	case "service":
		if len(s.TokenServiceURLs) == 0 {
			return nil, nil, errors.New("token_source is service but token_service_urls is empty; ask clinic IT to set it (docs/token-service.md)")
		}
		hc, err := tokensource.NewHTTPClient(s.TokenServiceCA)
		if err != nil {
			return nil, nil, err
		}
		neg := opt.Negotiator
		if neg == nil {
			neg = tokensource.SystemNegotiator()
		}
		return &tokensource.Service{URLs: s.TokenServiceURLs, SPN: s.TokenServiceSPN, HTTP: hc, Negotiator: neg,
			UserAgent: "heidi-tray/" + opt.Version}, nil, nil
	}
	return nil, nil, nil
}

// WidgetScript is the widget script the page loads for these settings.
func WidgetScript(s config.Settings, sandbox bool) string {
	switch {
	case s.WidgetScript != "":
		return s.WidgetScript
	case sandbox:
		return webui.SandboxWidget
	case s.Environment == heidiapi.Staging:
		return webui.StagingWidget
	}
	return webui.ProductionWidget
}

// sweepEvery is how often acknowledged notes past their retention go.
const sweepEvery = time.Hour

// Start serves the page server and, when it has a listener, the local API,
// and keeps the outbox within its retention. A server that stops on its
// own closes Failed.
func (a *App) Start(ctx context.Context) {
	a.wg.Add(1)
	go func() { // owned by the App: Close stops it through a.stop
		defer a.wg.Done()
		t := time.NewTicker(sweepEvery)
		defer t.Stop()
		for {
			if n := a.outbox.Sweep(); n > 0 {
				a.log.Info("acknowledged notes past their retention removed", "count", n)
			}
			select {
			case <-t.C:
			case <-a.stop:
				return
			}
		}
	}()
	a.serve("page server", func() error { return a.Pages.Serve(a.pageLn) })
	if a.opt.IPC != nil {
		a.serve("local API", func() error { return a.API.Serve(a.opt.IPC) })
	}
	for _, w := range a.opt.Config.Warnings {
		a.log.Warn("a setting was not applied", "warning", w)
	}
	a.Launcher.CheckSetup(ctx)
	if a.opt.Reload != nil {
		wctx, cancel := context.WithCancel(context.Background())
		a.stopBg = cancel
		w := &policywatch.Watcher{Load: a.opt.Reload, Files: a.opt.WatchFiles, Interval: a.opt.WatchInterval, Apply: a.applyConfig, Log: a.log}
		a.wg.Add(1)
		go func() { defer a.wg.Done(); w.Run(wctx, a.opt.Config) }()
	}
	a.wg.Add(1)
	go func() { defer a.wg.Done(); a.warmUp(a.ctx, "start-up") }()
	if w, err := unlock.Watch(func() { a.Resumed("unlock") }); err != nil {
		a.log.Info("session unlocks will not prefetch the token", "why", err)
	} else {
		a.unlock = w
	}
	a.log.Info("heidi-tray started", "version", a.opt.Version, "sandbox", a.opt.Sandbox, "endpoint", a.opt.Endpoint,
		"page", a.Pages.Origin(), "region", a.Settings.Region, "environment", a.Settings.Environment)
}

func (a *App) serve(name string, fn func() error) {
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		if err := fn(); err != nil {
			a.log.Error(name+" stopped", "err", err)
			a.failOnce.Do(func() { close(a.failed) })
		}
	}()
}

// applyConfig puts a changed configuration in force: the policy at once,
// the rest (region, port, browser, …) at the next start, which is logged.
func (a *App) applyConfig(old, cur *config.Config) {
	a.Launcher.ApplyPolicy(launcher.Policy{Disabled: cur.Disabled, DisabledBy: cur.SourceText("disabled"), AllowedEmailDomains: cur.AllowedEmailDomains, RequireSignedURLs: cur.RequireSignedURLs})
	for _, k := range config.Keys() {
		if k == "disabled" || k == "allowed_email_domains" {
			continue
		}
		if v := cur.Value(k); v != old.Value(k) {
			a.log.Info("setting changed; it takes effect when heidi-tray restarts", "setting", k, "from", cur.SourceText(k))
		}
	}
	for _, w := range cur.Warnings {
		if !slices.Contains(old.Warnings, w) {
			a.log.Warn("a setting was not applied", "warning", w)
		}
	}
	if a.opt.OnConfig != nil {
		a.opt.OnConfig(cur)
	}
}

// warmUp gets the first launch's work done before it is asked for: each
// region the tray expects (the default one and the last clinician's) has its
// key read into memory and a connection to Heidi set up, and the last
// clinician's token is fetched (the prefetch setting).
func (a *App) warmUp(ctx context.Context, why string) {
	regions := []string{a.Settings.Region}
	last, hasLast := a.Launcher.LastClinician()
	if hasLast && last.Region != a.Settings.Region {
		regions = append(regions, last.Region)
	}
	for _, r := range regions {
		if a.Settings.TokenSource != "" && a.Settings.TokenSource != "keychain" {
			break // no key and no call to Heidi from this machine
		}
		if err := a.Launcher.PreloadKey(ctx, r); err != nil {
			continue // no key yet: CheckSetup has said so
		}
		if base, err := a.base(r); err == nil && a.Conns != nil {
			a.Conns.Warm(base)
		}
	}
	if _, ok, err := a.Launcher.Prefetch(ctx); err != nil && ctx.Err() == nil {
		a.log.Warn("prefetch failed; the first launch will fetch the token", "when", why, "err", err)
	} else if ok {
		a.log.Debug("warm-up done", "when", why)
	}
}

// Resumed runs the warm-up again: the session was unlocked (or the machine
// woke), so the clinician is about to launch.
func (a *App) Resumed(why string) {
	a.bgMu.Lock()
	defer a.bgMu.Unlock()
	if a.ctx.Err() != nil {
		return // closing: Close waits for a.wg
	}
	a.log.Info("getting the first launch ready", "when", why)
	a.wg.Add(1)
	go func() { defer a.wg.Done(); a.warmUp(a.ctx, why) }()
}

// Failed is closed when a server stopped on its own.
func (a *App) Failed() <-chan struct{} { return a.failed }

// Close shuts down in one order: the local API first (no new launches), then
// the page server (every window is told it is signed out), then the core
// (token renewals), then what New provisioned. Bounded: a server that does
// not stop in time is logged and left.
func (a *App) Close() {
	a.closed.Do(func() {
		sctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		close(a.stop)
		if a.unlock != nil {
			a.unlock.Stop()
		}
		a.bgMu.Lock()
		a.cancel() // background warm-ups; no new ones (Resumed)
		a.bgMu.Unlock()
		// Waiters and event streams hear why they end before the servers stop.
		a.Launcher.Close()
		if a.stopBg != nil {
			a.stopBg()
		}
		if err := a.API.Shutdown(sctx); err != nil {
			a.log.Warn("the local API did not stop cleanly", "err", err)
		}
		if err := a.Pages.Shutdown(sctx); err != nil {
			a.log.Warn("the page server did not stop cleanly", "err", err)
		}
		done := make(chan struct{})
		go func() { a.wg.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			// Seen under Wine: a pending named-pipe accept is not cancelled.
			a.log.Warn("a server did not stop within 5 s; exiting anyway")
		}
		a.cleanup()
		a.log.Info("heidi-tray stopped")
	})
}

func (a *App) cleanup() {
	a.cancel()
	for i := len(a.cleanups) - 1; i >= 0; i-- {
		a.cleanups[i]()
	}
	a.cleanups = nil
}

// startFakeHeidi serves the fake JWT endpoint on loopback for the sandbox.
func startFakeHeidi(log *slog.Logger) (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, fmt.Errorf("starting the sandbox's fake Heidi: %w", err)
	}
	srv := &http.Server{Handler: fakeheidi.New(SandboxKey), ReadHeaderTimeout: 5 * time.Second}
	done := make(chan struct{})
	go func() { defer close(done); srv.Serve(ln) }()
	log.Info("SANDBOX: fake Heidi listening", "addr", ln.Addr().String())
	return "http://" + ln.Addr().String() + fakeheidi.BasePath, func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		<-done
	}, nil
}
