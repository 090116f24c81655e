//go:build !windows

package browser

import (
	"log/slog"
	"os"
	"path/filepath"
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

func TestCommandGetsTheURLAsLastArgument(t *testing.T) {
	script, log := recorder(t)
	o := New(`"`+script+`" --new-window`, slog.New(slog.DiscardHandler))
	if err := o.Open("http://127.0.0.1:5000/launch?code=x&y=1"); err != nil {
		t.Fatal(err)
	}
	o.Wait()
	if got := waitFile(t, log); got != "--new-window\nhttp://127.0.0.1:5000/launch?code=x&y=1\n" {
		t.Fatalf("argv %q", got)
	}
}

func TestMissingBrowserIsAClearError(t *testing.T) {
	o := New("/nonexistent/browser", slog.New(slog.DiscardHandler))
	err := o.Open("http://127.0.0.1:5000/")
	if err == nil || !strings.Contains(err.Error(), "check the browser setting") {
		t.Fatalf("%v", err)
	}
	if err := o.Open("file:///etc/passwd"); err == nil {
		t.Fatal("a file URL was opened")
	}
}
