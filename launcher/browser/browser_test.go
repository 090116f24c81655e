//go:build !windows

package browser

import (
	"html"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestCheckOpensOnlyLoopbackHTTP(t *testing.T) {
	ok := []string{"http://127.0.0.1:4000/launch?code=abc", "http://localhost:80/", "http://[::1]:9/x"}
	bad := []string{"calc", "file:///etc/passwd", "javascript:alert(1)", "heidi-tray://open", "https://evil.example/", "http://10.0.0.1/",
		"http://user:pw@127.0.0.1/", "-flag", "http://127.0.0.1/" + strings.Repeat("a", MaxURL)}
	for _, u := range ok {
		if _, err := Check(u); err != nil {
			t.Errorf("%s refused: %v", u, err)
		}
	}
	for _, u := range bad {
		if _, err := Check(u); err == nil {
			t.Errorf("%.60s accepted", u)
		}
	}
}

func TestSplitCommand(t *testing.T) {
	got, err := SplitCommand(`"/opt/My Browser/bin" --profile 'a b' -x`)
	if err != nil || strings.Join(got, "|") != "/opt/My Browser/bin|--profile|a b|-x" {
		t.Fatalf("%q %v", got, err)
	}
	for _, bad := range []string{"", "   ", `"unclosed`} {
		if _, err := SplitCommand(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func recorder(t *testing.T) (string, string) {
	dir := t.TempDir()
	log := filepath.Join(dir, "urls")
	script := filepath.Join(dir, "rec browser")
	os.WriteFile(script, []byte("#!/bin/sh\nfor a in \"$@\"; do printf '%s\\n' \"$a\"; done >> '"+log+"'\n"), 0o755)
	return script, log
}

func waitFile(t *testing.T, p string) string {
	for i := 0; i < 200; i++ {
		if b, err := os.ReadFile(p); err == nil && len(b) > 0 {
			return string(b)
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("the browser command never ran")
	return ""
}

// redirectTarget reads the redirect file a browser was given (a file://
// URL in its last argument) and returns where it leads.
func redirectTarget(t *testing.T, dir, arg string) string {
	t.Helper()
	u, err := url.Parse(arg)
	if err != nil || u.Scheme != "file" || filepath.Dir(u.Path) != dir {
		t.Fatalf("the browser was given %q, not a redirect file in %s", arg, dir)
	}
	fi, err := os.Stat(u.Path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("redirect file: %v %v", fi, err)
	}
	data, _ := os.ReadFile(u.Path)
	m := regexp.MustCompile(`content="0;url=([^"]+)"`).FindStringSubmatch(string(data))
	if m == nil {
		t.Fatalf("no redirect in %q", data)
	}
	return html.UnescapeString(m[1])
}

// The code never reaches the browser's argv: only a private file's path.
func TestCommandGetsARedirectFileNotTheURL(t *testing.T) {
	script, log := recorder(t)
	dir := filepath.Join(t.TempDir(), "open")
	o := New(`"`+script+`" --new-window`, dir, slog.New(slog.DiscardHandler))
	if err := o.Open("http://127.0.0.1:5000/launch?code=secretcode&y=1"); err != nil {
		t.Fatal(err)
	}
	o.Wait()
	got := waitFile(t, log)
	if strings.Contains(got, "secretcode") {
		t.Fatalf("the code is in the browser's argv: %q", got)
	}
	args := strings.Split(strings.TrimSpace(got), "\n")
	if len(args) != 2 || args[0] != "--new-window" {
		t.Fatalf("argv %q", got)
	}
	if target := redirectTarget(t, dir, args[1]); target != "http://127.0.0.1:5000/launch?code=secretcode&y=1" {
		t.Fatalf("the redirect leads to %q", target)
	}
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("redirect directory: %v %v", fi, err)
	}
	// Close (and, without it, RedirectLife) removes it; so does the next run.
	o.Close()
	if left, _ := filepath.Glob(filepath.Join(dir, "*")); len(left) != 0 {
		t.Fatalf("left after Close: %v", left)
	}
	o.Open("http://127.0.0.1:5000/launch?code=again")
	o.Wait()
	New("default", dir, slog.New(slog.DiscardHandler))
	if left, _ := filepath.Glob(filepath.Join(dir, "*")); len(left) != 0 {
		t.Fatalf("a new opener left an old run's files: %v", left)
	}
}

func TestMissingBrowserIsAClearError(t *testing.T) {
	o := New("/nonexistent/browser", t.TempDir(), slog.New(slog.DiscardHandler))
	err := o.Open("http://127.0.0.1:5000/")
	if err == nil || !strings.Contains(err.Error(), "check the browser setting") {
		t.Fatalf("%v", err)
	}
	if err := o.Open("file:///etc/passwd"); err == nil {
		t.Fatal("a file URL was opened")
	}
}
