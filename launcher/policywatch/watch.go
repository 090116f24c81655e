// Package policywatch keeps a running tray's settings current: it re-reads
// them when the config file or the administrator's policy changes (on
// Windows the policy registry keys notify it; files are polled by
// modification time and size, which is bounded and needs no file-watching
// library) and hands a changed configuration to Apply.
package policywatch

import (
	"context"
	"log/slog"
	"os"
	"reflect"
	"slices"
	"time"

	"github.com/heidi-tray/heidi-tray/launcher/config"
)

// Watcher re-reads the settings when what they come from changes.
type Watcher struct {
	// Load reads the effective settings (file, environment, policy).
	Load func() (*config.Config, error)
	// Files are polled for changes: the config file, managed preferences.
	Files []string
	// Interval is the polling period (default 2 s). Without registry
	// notifications the policy is re-read on every tick as well.
	Interval time.Duration
	// Apply is called with the previous and the new configuration when the
	// effective settings or their warnings changed.
	Apply func(old, cur *config.Config)
	Log   *slog.Logger
}

type stamp struct {
	mod  time.Time
	size int64
	ok   bool
}

func (w *Watcher) stamps() []stamp {
	out := make([]stamp, len(w.Files))
	for i, f := range w.Files {
		if fi, err := os.Stat(f); err == nil {
			out[i] = stamp{fi.ModTime(), fi.Size(), true}
		}
	}
	return out
}

// Run watches until ctx ends; current is the configuration in force.
func (w *Watcher) Run(ctx context.Context, current *config.Config) {
	interval := w.Interval
	if interval <= 0 {
		interval = 2 * time.Second
	}
	log := w.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	policyChanged, watching := notifyPolicy(ctx, log)
	var last []stamp // nil: the first tick re-reads once, catching a change made before Run
	lastErr := ""
	reload := func(why string) {
		log.Debug("reload", "why", why)
		cur, err := w.Load()
		if err != nil {
			// Keep what is in force: a half-written file or a bad value
			// must not turn a working tray off.
			if msg := err.Error(); msg != lastErr {
				log.Warn("the changed settings could not be read; keeping the ones in force", "trigger", why, "err", err)
				lastErr = msg
			}
			return
		}
		lastErr = ""
		if reflect.DeepEqual(cur.Settings, current.Settings) && slices.Equal(cur.Warnings, current.Warnings) {
			return
		}
		log.Info("settings changed", "trigger", why)
		old := current
		current = cur
		w.Apply(old, cur)
	}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	var settle <-chan time.Time // registry writers set several values in a row
	for {
		select {
		case <-ctx.Done():
			return
		case <-policyChanged:
			settle = time.After(200 * time.Millisecond)
		case <-settle:
			settle = nil
			reload("policy")
		case <-tick.C:
			now := w.stamps()
			switch {
			case !reflect.DeepEqual(now, last):
				last = now
				reload("file")
			case !watching:
				reload("poll")
			}
		}
	}
}
