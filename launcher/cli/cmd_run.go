package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/heidi-tray/heidi-tray/launcher"
	"github.com/heidi-tray/heidi-tray/launcher/app"
	"github.com/heidi-tray/heidi-tray/launcher/browser"
	"github.com/heidi-tray/heidi-tray/launcher/config"
	"github.com/heidi-tray/heidi-tray/launcher/install"
	"github.com/heidi-tray/heidi-tray/launcher/ipc"
	"github.com/heidi-tray/heidi-tray/launcher/logging"
	"github.com/heidi-tray/heidi-tray/launcher/notify"
	"github.com/heidi-tray/heidi-tray/launcher/paths"
	"github.com/heidi-tray/heidi-tray/launcher/request"
	"github.com/heidi-tray/heidi-tray/tray"
)

var runCommand = command{
	name:  "run",
	usage: `  heidi-tray [run]                 run the tray (one per user)`,
	run:   func(ctx context.Context, env Env, args []string) error { return runTray(ctx, env, false, args) },
}

var sandboxCommand = command{
	name:  "sandbox",
	usage: `  heidi-tray sandbox [--no-open]   run the tray against a built-in fake Heidi (no key needed)`,
	run:   func(ctx context.Context, env Env, args []string) error { return runTray(ctx, env, true, args) },
}

// runTray is the long-running process: provision every part, serve until
// asked to stop, then shut down in reverse order.
func runTray(ctx context.Context, env Env, sandbox bool, args []string) (err error) {
	fs := flags("run")
	noOpen := fs.Bool("no-open", false, "sandbox: do not open the demo page at start")
	if err := parse(fs, args); err != nil {
		return err
	}
	// The log opens first, so that every failure to start is on record; a
	// tray started by the Run key or an installer has no console.
	logDir, logFile, err := openLog()
	if err != nil {
		return err
	}
	defer logFile.Close()
	log := logging.New(logFile, "info")
	quiet := false // serving, or a second tray: nothing to report
	defer func() {
		if err != nil && !quiet {
			startFailed(log, logFile.Path(), err)
		}
	}()
	cfg, err := loadConfig(env)
	if err != nil {
		return err
	}
	settings := cfg.Settings
	if err := refuseIfDisabled(cfg); err != nil {
		return err
	}
	log = logging.New(logFile, settings.LogLevel)
	if os.Getenv("GOMEMLIMIT") == "" && settings.MemoryLimitMiB > 0 {
		// A soft limit makes the runtime hand memory back after a burst
		// instead of keeping its high-water mark all day; set well above the
		// idle heap so a burst does not make the GC thrash (docs/performance.md).
		debug.SetMemoryLimit(int64(settings.MemoryLimitMiB) << 20)
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
		quiet = true
		// macOS may have started this process for a URL (a LaunchServices
		// launch while a tray not known to it runs): hand it on, not lose it.
		if urls := tray.QueuedURLs(3 * time.Second); len(urls) > 0 {
			return forwardURLs(ctx, ipc.NewClient(ep.Path), urls, log)
		}
		log.Info("another heidi-tray is already running for this user and session; exiting")
		return &UserError{Code: ExitFailure, Msg: "heidi-tray is already running for this user; see 'heidi-tray status'"}
	}
	if err != nil {
		return err
	}
	defer release()

	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	tray.OnQuit(stop)                      // macOS: the Quit Apple Event (logout, restart)
	var live atomic.Pointer[config.Config] // the settings in force, for the menu
	live.Store(cfg)
	a, err := app.New(app.Options{
		Version: env.Version, Config: cfg, Sandbox: sandbox, Log: log,
		IPC: ipcLn, Endpoint: ep.Path, Quit: stop,
		Reload:     func() (*config.Config, error) { return loadConfig(env) },
		WatchFiles: append([]string{cfg.File}, policyFiles()...),
		OnConfig:   func(c *config.Config) { live.Store(c) },
		// Extra trust roots for an api_base override only: the bench's and
		// tests' fake Heidi over TLS (docs/performance.md).
		TestCAFile: os.Getenv("HEIDI_TRAY_TEST_CA_FILE"),
	})
	if err != nil {
		return &UserError{Code: ExitFailure, Msg: err.Error()}
	}
	defer a.Close()
	a.Start(ctx)
	quiet = true
	stopSessionEnd := onSessionEnd(log, func() { a.Launcher.Logout(context.Background()); stop() })
	defer stopSessionEnd()
	go func() { // a server that stops on its own stops the tray
		select {
		case <-a.Failed():
			stop()
		case <-ctx.Done():
		}
	}()
	l := a.Launcher
	settings = a.Settings
	if sandbox {
		fmt.Fprintf(env.Stdout, "heidi-tray SANDBOX is running: a fake Heidi and a stand-in widget, no key needed.\n"+
			"Page server: %s   Local API: %s\nLog: %s\n"+
			"Try another launch:  heidi-tray open --email dr.b@clinic.example --user-id 43 --patient-id P2 --patient-name 'John Smith'\n"+
			"Stop with Ctrl+C or 'heidi-tray quit'.\n", a.Pages.Origin(), ep.Path, logFile.Path())
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
		log.Info("URL received from the OS") // not the URL: it names a clinician
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
				if c := live.Load(); c.Sources["autostart"].Kind == "policy" && c.Autostart != enable {
					err := fmt.Errorf("start at login is set by your administrator (%s)", c.SourceText("autostart"))
					log.Warn("changing start at login refused", "err", err)
					return err
				}
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

// openLog opens the log in its place, or else in a fallback directory
// under the temporary directory (a broken profile must not hide why
// heidi-tray did not start).
func openLog() (string, *logging.File, error) {
	dir, err := paths.LogDir()
	if err == nil {
		var f *logging.File
		if f, err = logging.Open(dir); err == nil {
			return dir, f, nil
		}
	}
	fallback := filepath.Join(os.TempDir(), "heidi-tray-logs") // per user on Windows
	if uid := os.Getuid(); uid >= 0 {
		fallback += fmt.Sprintf("-%d", uid)
	}
	f, ferr := logging.Open(fallback)
	if ferr != nil {
		return "", nil, fmt.Errorf("cannot open a log (%v), nor one in %s (%v)", err, fallback, ferr)
	}
	logging.New(f, "info").Warn("the log directory is unusable; logging here instead", "err", err)
	return fallback, f, nil
}

// startFailed records why the tray did not start: in the log, where the
// OS keeps such records (Windows: the Event Log; startfail_*.go), and as a
// notification when there is a desktop to show it on.
func startFailed(log *slog.Logger, logPath string, err error) {
	msg := oneLine(err.Error())
	log.Error("heidi-tray could not start", "err", msg)
	reportStartFailure("heidi-tray could not start: " + msg + " (log: " + logPath + ")")
	if hasDesktop() {
		notify.Notifier{Log: log}.Send("heidi-tray could not start", msg)
	}
}
