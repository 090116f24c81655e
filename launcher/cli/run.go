package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"sync"
	"syscall"
	"time"

	"github.com/heidi-tray/heidi-tray/keystore"
	"github.com/heidi-tray/heidi-tray/launcher"
	"github.com/heidi-tray/heidi-tray/launcher/browser"
	"github.com/heidi-tray/heidi-tray/launcher/clipboard"
	"github.com/heidi-tray/heidi-tray/launcher/heidiapi"
	"github.com/heidi-tray/heidi-tray/launcher/heidiapi/fakeheidi"
	"github.com/heidi-tray/heidi-tray/launcher/install"
	"github.com/heidi-tray/heidi-tray/launcher/ipc"
	"github.com/heidi-tray/heidi-tray/launcher/logging"
	"github.com/heidi-tray/heidi-tray/launcher/netproxy"
	"github.com/heidi-tray/heidi-tray/launcher/notify"
	"github.com/heidi-tray/heidi-tray/launcher/outbox"
	"github.com/heidi-tray/heidi-tray/launcher/paths"
	"github.com/heidi-tray/heidi-tray/launcher/request"
	"github.com/heidi-tray/heidi-tray/launcher/sessions"
	"github.com/heidi-tray/heidi-tray/launcher/webui"
	"github.com/heidi-tray/heidi-tray/tray"
)

// idleMemoryLimit is the tray's soft heap limit.
const idleMemoryLimit = 12 << 20

// SandboxKey is the API key the sandbox's fake Heidi accepts.
const SandboxKey = "sandbox-not-a-real-key"

// runTray is the long-running process: provision every part, serve until
// asked to stop, then shut down in reverse order.
func runTray(ctx context.Context, env Env, sandbox bool, args []string) (err error) {
	fs := flags("run")
	noOpen := fs.Bool("no-open", false, "sandbox: do not open the demo page at start")
	if err := parse(fs, args); err != nil {
		return err
	}
	cfg, err := loadConfig(env)
	if err != nil {
		return err
	}
	settings := cfg.Settings
	if err := refuseIfDisabled(cfg); err != nil {
		return err
	}

	logDir, err := paths.LogDir()
	if err != nil {
		return err
	}
	logFile, err := logging.Open(logDir)
	if err != nil {
		return err
	}
	defer logFile.Close()
	log := logging.New(logFile, settings.LogLevel)
	heidiapi.UserAgent = "heidi-tray/" + env.Version
	if os.Getenv("GOMEMLIMIT") == "" {
		// A soft limit makes the runtime hand memory back after a burst
		// instead of keeping its high-water mark all day (docs/performance.md).
		debug.SetMemoryLimit(idleMemoryLimit)
	}
	defer func() { // a crash goes to the log with its stack, not to the clinician
		if v := recover(); v != nil {
			log.Error("heidi-tray crashed", "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			err = &UserError{Code: ExitFailure, Msg: "heidi-tray stopped after an internal error; the details are in " + logFile.Path()}
		}
	}()

	ep, err := endpoint()
	if err != nil {
		return err
	}
	ipcLn, release, err := ep.Listen()
	if errors.Is(err, ipc.ErrAlreadyRunning) {
		return &UserError{Code: ExitFailure, Msg: "heidi-tray is already running for this user; see 'heidi-tray status'"}
	}
	if err != nil {
		return err
	}
	defer release()

	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	var wg sync.WaitGroup
	defer func() { // the servers stop when Shutdown closes their listeners
		done := make(chan struct{})
		go func() { wg.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			// Seen under Wine: a pending named-pipe accept is not cancelled.
			log.Warn("a server did not stop within 5 s; exiting anyway")
		}
	}()

	osKeys := keystore.OS()
	var keys launcher.Keys = osKeys
	var secrets launcher.LaunchSecrets = osKeys
	base := func(region string) (string, error) {
		return heidiapi.BaseURL(settings.Environment, region, settings.APIBase)
	}
	widget := settings.WidgetScript
	if widget == "" {
		widget = webui.ProductionWidget
		if settings.Environment == heidiapi.Staging {
			widget = webui.StagingWidget
		}
	}
	if sandbox {
		fakeURL, shutdownFake, err := startFakeHeidi(log)
		if err != nil {
			return err
		}
		defer shutdownFake()
		base = func(string) (string, error) { return fakeURL, nil }
		mem := keystore.Memory()
		for _, r := range heidiapi.Regions {
			mem.SetAPIKey(ctx, r, keystore.NewAPIKey(SandboxKey))
		}
		keys, secrets = mem, mem
		if settings.WidgetScript == "" {
			widget = webui.SandboxWidget
		}
		settings.ProductName = "heidi-tray SANDBOX"
	}

	stateDir, err := paths.StateDir()
	if err != nil {
		return err
	}
	if sandbox {
		stateDir = filepath.Join(stateDir, "sandbox") // sandbox notes never mix with real ones
	}
	if err := paths.EnsurePrivateDir(stateDir); err != nil {
		return err
	}
	box, err := outbox.New(filepath.Join(stateDir, "outbox"))
	if err != nil {
		return err
	}
	sess, err := sessions.Open(filepath.Join(stateDir, "sessions.json"))
	if err != nil {
		return err
	}

	l := launcher.New(launcher.Deps{
		Settings: settings, Sandbox: sandbox, Version: env.Version, Keys: keys,
		Heidi:  &heidiapi.Client{HTTP: newHTTPClient(), Base: base},
		Opener: browser.New(settings.Browser, log), Outbox: box, Sessions: sess,
		Clipboard: clipboard.Copy, Log: log, Quit: stop, Endpoint: ep.Path,
		Secrets: secrets, Config: cfg, Binding: launcher.Binding{Path: filepath.Join(stateDir, "binding")},
		Notify: notify.Notifier{Log: log, Sandbox: sandbox}.Send,
	})
	defer l.Close()

	pageLn, err := webui.ListenLoopback(settings.Port, filepath.Join(stateDir, "port"), log)
	if err != nil {
		return &UserError{Code: ExitFailure, Msg: err.Error()}
	}
	pages := webui.New(pageLn, l, webui.Options{WidgetScript: widget, ProductName: settings.ProductName, Sandbox: sandbox, Log: log})
	l.SetPages(pages)
	api := ipc.NewServer(l, log)

	serve := func(name string, fn func() error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := fn(); err != nil {
				log.Error(name+" stopped", "err", err)
				stop()
			}
		}()
	}
	serve("page server", func() error { return pages.Serve(pageLn) })
	serve("local API", func() error { return api.Serve(ipcLn) })
	defer func() { // runs before wg.Wait: stop the servers it waits for
		sctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		api.Shutdown(sctx)
		pages.Shutdown(sctx)
		log.Info("heidi-tray stopped")
	}()

	l.CheckSetup(ctx)
	log.Info("heidi-tray started", "version", env.Version, "sandbox", sandbox, "endpoint", ep.Path, "page", pages.Origin(), "region", settings.Region, "environment", settings.Environment)
	if sandbox {
		fmt.Fprintf(env.Stdout, "heidi-tray SANDBOX is running: a fake Heidi and a stand-in widget, no key needed.\n"+
			"Page server: %s   Local API: %s\nLog: %s\n"+
			"Try another launch:  heidi-tray open --email dr.b@clinic.example --user-id 43 --patient-id P2 --patient-name 'John Smith'\n"+
			"Stop with Ctrl+C or 'heidi-tray quit'.\n", pages.Origin(), ep.Path, logFile.Path())
		if !*noOpen {
			go func() {
				demo := request.Open{Clinician: request.Clinician{Email: "dr.a@clinic.example", UserID: "42", Region: settings.Region},
					Patient: &request.Patient{ID: "P-1001", Name: "Jane Citizen", DOB: "1984-03-09", Gender: "female"}, EncounterID: "E-1"}
				if _, err := l.Open(ctx, demo, true); err != nil {
					fmt.Fprintln(env.Stderr, "heidi-tray: the demo launch failed:", oneLine(err.Error()))
				}
			}()
		}
	}

	// macOS hands heidi-tray:// URLs to the running app (tray/urlevent.go).
	tray.OnURL(func(raw string) {
		if _, err := l.OpenURL(ctx, raw); err != nil {
			log.Warn("URL launch from the OS failed", "err", err)
		}
	})
	updates := make(chan tray.State, 1)
	l.OnState(func(s launcher.State) {
		ts := tray.State(s)
		select { // keep only the newest state
		case <-updates:
		default:
		}
		updates <- ts
	})
	exe, _ := os.Executable()
	tray.Run(ctx, tray.Config{
		Info:    tray.Info{Version: env.Version, Region: settings.Region, Environment: settings.Environment, Autostart: install.AutostartEnabled()},
		Initial: tray.State(l.State()),
		Updates: updates,
		Actions: tray.Actions{
			Open: func() {
				if err := l.Reopen(ctx); err != nil {
					log.Warn("Open Heidi from the tray failed", "err", err)
				}
			},
			Setup: func() {
				if err := l.OpenSettings(); err != nil {
					log.Warn("Set up… failed", "err", err)
				}
			},
			Autostart: func(enable bool) error {
				_, err := install.SetAutostart(exe, enable)
				if err != nil {
					log.Warn("changing start at login failed", "err", err)
				}
				return err
			},
			OpenLogs: func() {
				if err := browser.OpenFolder(logDir); err != nil {
					log.Warn("Open logs failed", "err", err)
				}
			},
			Quit: stop,
		},
		Log: log,
	})
	stop()
	return nil
}

// newHTTPClient is the client for Heidi: proxy from the environment and
// the system's trust roots (no pinning, so TLS-inspecting proxies work).
func newHTTPClient() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = netproxy.Func()
	tr.ResponseHeaderTimeout = 10 * time.Second
	return &http.Client{Transport: tr, Timeout: 15 * time.Second}
}

// startFakeHeidi serves the fake JWT endpoint on loopback for the sandbox.
func startFakeHeidi(log *slog.Logger) (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, fmt.Errorf("starting the sandbox's fake Heidi: %w", err)
	}
	srv := &http.Server{Handler: fakeheidi.New(SandboxKey), ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	log.Info("SANDBOX: fake Heidi listening", "addr", ln.Addr().String())
	return "http://" + ln.Addr().String() + fakeheidi.BasePath, func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	}, nil
}
