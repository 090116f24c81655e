// Package tray shows heidi-tray's icon and menu. One menu struct, one event
// loop: every change to the menu happens on that loop's goroutine (the
// systray library is not goroutine-safe), rebuilt from one State.
package tray

import (
	"context"
	"log/slog"
	"runtime"
	"time"

	"github.com/heidi-tray/heidi-tray/assets"
	"github.com/heidi-tray/heidi-tray/launcher/wire"
)

// State is what the tray shows.
type State struct {
	Kind    wire.StateKind
	Message string // the status line
	CanOpen bool   // "Open Heidi" has a clinician to reopen
	Sandbox bool
}

// Info is what About shows; it does not change while the tray runs.
type Info struct {
	Version, Region, Environment string
	Autostart                    bool
}

// Actions are what the menu items do. They run on their own goroutines, so a
// slow action never makes the tray drop clicks.
type Actions struct {
	Open      func()
	Setup     func()
	Autostart func(enable bool) error
	OpenLogs  func()
	Quit      func()
}

// About is the About line.
func About(i Info, sandbox bool) string {
	s := "heidi-tray " + i.Version + " · " + i.Region + " · " + i.Environment
	if sandbox {
		s += " · SANDBOX"
	}
	return s
}

// Config for Run.
type Config struct {
	Info    Info
	Initial State
	Updates <-chan State
	Actions Actions
	Log     *slog.Logger
}

// Title is the tray item's title (some Linux hosts show it as the tooltip).
func Title(s State) string {
	t := "Heidi"
	if s.Sandbox {
		t = "Heidi SANDBOX"
	}
	if s.Message != "" {
		t += " — " + s.Message
	}
	return t
}

// MenuBarTitle is the text beside the icon in the macOS menu bar, which
// has little room: nothing but SANDBOX when it is one. The status line is
// in the menu and the tooltip.
func MenuBarTitle(s State) string {
	if s.Sandbox {
		return "SANDBOX"
	}
	return ""
}

// TemplateIcon returns the macOS menu-bar template image (black and
// alpha) for a state.
func TemplateIcon(kind string) []byte {
	b, err := assets.Icons.ReadFile("icons/template-" + kind + ".png")
	if err != nil {
		b, _ = assets.Icons.ReadFile("icons/template-error.png")
	}
	return b
}

// Icon returns the PNG icon for a state.
func Icon(kind string) []byte { return iconFile(kind, ".png") }

func iconFile(kind, ext string) []byte {
	b, err := assets.Icons.ReadFile("icons/" + kind + ext)
	if err != nil {
		b, _ = assets.Icons.ReadFile("icons/error" + ext)
	}
	return b
}

// HostMissing says why no tray icon can be shown here, or "" (doctor): no
// session bus, or (Linux) no tray host owning the StatusNotifierWatcher.
func HostMissing() string {
	if why := hostMissing(); why != "" {
		return why
	}
	return watcherMissing()
}

// Run shows the tray until ctx ends, and returns then. On macOS it must be
// called from main's goroutine (Cocoa needs the main thread). Without a tray
// host it logs one warning and simply waits: heidi-tray keeps serving.
func Run(ctx context.Context, cfg Config) {
	if reason := hostMissing(); reason != "" {
		cfg.Log.Warn("no system tray available; heidi-tray keeps serving without an icon", "reason", reason)
		<-ctx.Done()
		return
	}
	if runtime.GOOS == "darwin" {
		run(ctx, cfg)
		return
	}
	// Elsewhere the tray gets a thread of its own, so a tray library that
	// fails to start (no desktop to draw on) can never keep heidi-tray from
	// serving or from shutting down.
	done := make(chan struct{})
	go func() {
		defer close(done)
		runtime.LockOSThread()
		run(ctx, cfg)
	}()
	select {
	case <-done:
		if ctx.Err() == nil {
			cfg.Log.Warn("the tray icon could not be shown; heidi-tray keeps serving without it")
			<-ctx.Done()
		}
	case <-ctx.Done():
		select {
		case <-done:
		case <-time.After(2 * time.Second):
			cfg.Log.Warn("the tray icon did not close; exiting anyway")
		}
	}
}
