package policywatch

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heidi-tray/heidi-tray/launcher/config"
)

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// A change to the config file reaches Apply; a file that does not parse is
// warned about once and changes nothing; a fix applies again.
func TestWatcherAppliesFileChanges(t *testing.T) {
	// Not t.TempDir: under Wine its removal fails the test ("make windows").
	dir, err := os.MkdirTemp("", "policywatch")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	file := filepath.Join(dir, "config.toml")
	load := func() (*config.Config, error) { return config.Load(file, nil, nil) }
	first, err := load()
	if err != nil {
		t.Fatal(err)
	}
	applied := make(chan *config.Config, 10)
	logs := &syncBuf{}
	w := &Watcher{Load: load, Files: []string{file}, Interval: 20 * time.Millisecond,
		Apply: func(_, cur *config.Config) { applied <- cur }, Log: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); w.Run(ctx, first) }()
	defer func() { cancel(); <-done }()

	next := func(what string) *config.Config {
		t.Helper()
		select {
		case c := <-applied:
			return c
		case <-time.After(5 * time.Second):
			t.Fatalf("%s was not applied; log:\n%s", what, logs.String())
		}
		return nil
	}
	write := func(s string) {
		t.Helper()
		if err := os.WriteFile(file, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("disabled = true\nallowed_email_domains = [\"clinic.example\"]\n")
	if c := next("the kill switch"); !c.Disabled || len(c.AllowedEmailDomains) != 1 || c.AllowedEmailDomains[0] != "clinic.example" {
		t.Fatalf("applied %+v", c.Settings)
	}
	// A key from a newer version: the same settings, a new warning.
	write("disabled = true\nallowed_email_domains = [\"clinic.example\"]\nfuture_setting = 1\n")
	if c := next("a new warning"); !c.Disabled || len(c.Warnings) != 1 || !strings.Contains(c.Warnings[0], "future_setting") {
		t.Fatalf("applied %+v %q", c.Settings, c.Warnings)
	}
	// Unreadable (a directory in its place): kept as it was, warned about once.
	os.Remove(file)
	os.Mkdir(file, 0o700)
	deadline := time.Now().Add(2 * time.Second)
	for !strings.Contains(logs.String(), "could not be read") {
		if time.Now().After(deadline) {
			t.Fatalf("no warning for an unreadable file; log:\n%s", logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	select {
	case c := <-applied:
		t.Fatalf("an unreadable file was applied: %+v", c.Settings)
	case <-time.After(200 * time.Millisecond):
	}
	if n := strings.Count(logs.String(), "could not be read"); n != 1 {
		t.Fatalf("the same unreadable file was warned about %d times", n)
	}
	os.Remove(file)
	write("disabled = false\n")
	if c := next("turning back on"); c.Disabled || len(c.AllowedEmailDomains) != 0 {
		t.Fatalf("applied %+v", c.Settings)
	}
	os.Remove(file) // back to defaults: no change from the last state, nothing applied
	select {
	case c := <-applied:
		t.Fatalf("no effective change was applied: %+v", c.Settings)
	case <-time.After(200 * time.Millisecond):
	}
}
