// Package browser opens the local page: in a chromeless app window (Edge or
// Chrome --app), the default browser, or a command the administrator chose.
// It only ever opens http(s) URLs to this machine, and never waits for the
// browser: a browser can live as long as the clinician's day.
//
// A page URL carries a one-time code, and a browser's command line is
// readable by every user of the machine (ps on Linux and macOS). So the
// browser is never given the URL: it is given a redirect file, private to
// this user, that leads to it (Jupyter's approach), deleted soon after.
package browser

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/heidi-tray/heidi-tray/launcher/internal/loopback"
	"github.com/heidi-tray/heidi-tray/launcher/paths"
	pkgbrowser "github.com/pkg/browser"
)

// MaxURL: Windows ShellExecute fails on longer URLs.
const MaxURL = 2000

// RedirectLife is how long a redirect file lives: longer than a launch code
// (60 s), after which it leads nowhere anyway.
const RedirectLife = 90 * time.Second

// Opener opens URLs per the browser setting.
type Opener struct {
	setting string // app | default | a command
	dir     string // private directory for redirect files
	log     *slog.Logger
	find    func(string) (string, error)
	// launch runs a short-lived helper (macOS: /usr/bin/open) to completion
	// and reports its failure; tests record the argv instead.
	launch func(argv []string) error
	wg     sync.WaitGroup

	mu      sync.Mutex
	pending map[string]*time.Timer // redirect file → its removal
}

// New returns an opener for the browser setting that writes its redirect
// files in dir, a directory only this user can enter. Files a previous run
// left there are removed.
func New(setting, dir string, log *slog.Logger) *Opener {
	if dir != "" {
		if old, err := filepath.Glob(filepath.Join(dir, "open-*.html")); err == nil {
			for _, f := range old {
				os.Remove(f)
			}
		}
	}
	return &Opener{setting: setting, dir: dir, log: log, find: exec.LookPath, launch: runHelper, pending: map[string]*time.Timer{}}
}

// Check accepts only http(s) URLs to a loopback host, and returns the URL in
// its canonical form.
func Check(raw string) (string, error) {
	if len(raw) > MaxURL {
		return "", fmt.Errorf("URL is longer than %d characters", MaxURL)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("not a URL: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", fmt.Errorf("only http(s) URLs are opened, not %q", u.Scheme)
	}
	host := u.Hostname()
	if !loopback.Host(host) {
		return "", fmt.Errorf("only pages on this machine are opened, not %q", host)
	}
	if u.User != nil {
		return "", errors.New("URLs with credentials are not opened")
	}
	return u.String(), nil
}

// Open starts the browser on rawURL, through a redirect file, and returns
// once it has started.
func (o *Opener) Open(rawURL string) error {
	target, err := Check(rawURL)
	if err != nil {
		return err
	}
	u, err := o.redirect(target)
	if err != nil {
		return err
	}
	switch o.setting {
	case "default", "":
		return o.openDefault(u)
	case "app":
		return o.openApp(u)
	}
	argv, err := SplitCommand(o.setting)
	if err != nil {
		return fmt.Errorf("the browser setting %q: %w", o.setting, err)
	}
	return o.start(argv[0], append(argv[1:], u))
}

// Wait waits for browser helper processes started so far (shutdown, tests).
func (o *Opener) Wait() { o.wg.Wait() }

// Close removes the redirect files not yet removed.
func (o *Opener) Close() {
	o.mu.Lock()
	defer o.mu.Unlock()
	for f, t := range o.pending {
		t.Stop()
		os.Remove(f)
		delete(o.pending, f)
	}
}

// redirect writes a page that sends the browser to target, in the private
// directory, and returns its file:// URL: all any process list shows.
func (o *Opener) redirect(target string) (string, error) {
	if o.dir == "" {
		return "", errors.New("no private directory for the browser's redirect file")
	}
	if err := paths.EnsurePrivateDir(o.dir); err != nil {
		return "", fmt.Errorf("the browser's redirect file: %w", err)
	}
	b := make([]byte, 16)
	rand.Read(b)
	name := filepath.Join(o.dir, "open-"+hex.EncodeToString(b)+".html")
	q := html.EscapeString(target)
	page := `<!doctype html><meta charset="utf-8"><meta name="referrer" content="no-referrer">` +
		`<meta http-equiv="refresh" content="0;url=` + q + `"><title>Opening Heidi…</title>` +
		`<p>Opening Heidi… If nothing happens, <a href="` + q + `">continue</a>.</p>` + "\n"
	f, err := os.OpenFile(name, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return "", fmt.Errorf("writing the browser's redirect file: %w", err)
	}
	_, werr := f.WriteString(page)
	if err := f.Close(); werr != nil || err != nil {
		os.Remove(name)
		return "", fmt.Errorf("writing the browser's redirect file: %w", errors.Join(werr, err))
	}
	o.mu.Lock()
	o.pending[name] = time.AfterFunc(RedirectLife, func() {
		os.Remove(name)
		o.mu.Lock()
		delete(o.pending, name)
		o.mu.Unlock()
	})
	o.mu.Unlock()
	return fileURL(name), nil
}

// fileURL is the file:// URL of an absolute path (file:///C:/… on Windows).
func fileURL(path string) string {
	p := filepath.ToSlash(path)
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	return (&url.URL{Scheme: "file", Path: p}).String()
}

func (o *Opener) start(exe string, args []string) error {
	cmd := exec.Command(exe, args...)
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	detach(cmd)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting the browser %q: %w; check the browser setting", exe, err)
	}
	o.wg.Add(1)
	go func() { // reap it; report a failing browser command
		defer o.wg.Done()
		if err := cmd.Wait(); err != nil {
			o.log.Warn("the browser command failed", "command", exe, "err", err)
		}
	}()
	return nil
}

// openWithPkgBrowser opens u in the default browser (Linux, Windows).
func (o *Opener) openWithPkgBrowser(u string) error {
	o.wg.Add(1)
	go func() { // pkg/browser may block until the browser exits
		defer o.wg.Done()
		if err := pkgbrowser.OpenURL(u); err != nil {
			o.log.Warn("the default browser could not be opened; set the browser setting to a command", "err", err)
		}
	}()
	return nil
}

func init() {
	pkgbrowser.Stdout, pkgbrowser.Stderr = io.Discard, io.Discard
}

// runHelper runs a helper that returns at once (open(1)), bounded, and
// turns its failure into an error that quotes what it printed.
func runHelper(argv []string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = io.Discard, &stderr
	if err := cmd.Run(); err != nil {
		if msg := strings.TrimSpace(stderr.String()); msg != "" {
			return fmt.Errorf("%s: %w (%s)", filepath.Base(argv[0]), err, strings.Join(strings.Fields(msg), " "))
		}
		return fmt.Errorf("%s: %w", filepath.Base(argv[0]), err)
	}
	return nil
}

// SplitCommand splits a command line on spaces, honouring double and single
// quotes; no shell is involved.
func SplitCommand(s string) ([]string, error) {
	var out []string
	var cur strings.Builder
	inWord := false
	var quote rune
	for _, r := range s {
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
			} else {
				cur.WriteRune(r)
			}
		case r == '"' || r == '\'':
			quote, inWord = r, true
		case r == ' ' || r == '\t':
			if inWord {
				out = append(out, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if quote != 0 {
		return nil, errors.New("has an unclosed quote")
	}
	if inWord {
		out = append(out, cur.String())
	}
	if len(out) == 0 {
		return nil, errors.New("is empty")
	}
	return out, nil
}

// OpenFolder shows a local folder in the file manager (the tray's Open logs).
func OpenFolder(dir string) error {
	if !filepath.IsAbs(dir) {
		return fmt.Errorf("not an absolute folder: %q", dir)
	}
	return openFolder(dir)
}
