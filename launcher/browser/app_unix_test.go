//go:build !windows && !darwin

package browser

import (
	"errors"
	"log/slog"
	"testing"
)

func TestAppModeUsesAChromiumWindow(t *testing.T) {
	script, log := recorder(t)
	o := New("app", slog.New(slog.DiscardHandler))
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
	if got := waitFile(t, log); got != "--app=http://127.0.0.1:5000/\n" {
		t.Fatalf("argv %q", got)
	}
}
