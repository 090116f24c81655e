//go:build !windows && !darwin

package browser

import (
	"errors"
	"log/slog"
	"strings"
	"testing"
)

func TestAppModeUsesAChromiumWindow(t *testing.T) {
	script, log := recorder(t)
	dir := t.TempDir()
	o := New("app", dir, slog.New(slog.DiscardHandler))
	o.find = func(name string) (string, error) {
		if name == "google-chrome" {
			return script, nil
		}
		return "", errors.New("not found")
	}
	if err := o.Open("http://127.0.0.1:5000/"); err != nil {
		t.Fatal(err)
	}
	o.Wait()
	got := strings.TrimSpace(waitFile(t, log))
	if !strings.HasPrefix(got, "--app=file://") || redirectTarget(t, dir, strings.TrimPrefix(got, "--app=")) != "http://127.0.0.1:5000/" {
		t.Fatalf("argv %q", got)
	}
}
