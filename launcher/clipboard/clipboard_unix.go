//go:build !windows && !darwin

package clipboard

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"
)

// copyText: on Wayland through wl-copy (marked sensitive where wl-copy has
// --sensitive, 2.3 and later); on X11 the tray owns the selection itself,
// marked (x11_unix.go), falling back to xclip or xsel (unmarked) only when
// it cannot reach the display itself.
func copyText(text string) error {
	switch {
	case os.Getenv("WAYLAND_DISPLAY") != "":
		if exe, err := exec.LookPath("wl-copy"); err == nil {
			args := []string{}
			if wlCopyHasSensitive(exe) {
				args = append(args, "--sensitive")
			}
			return runCopier(exe, args, text)
		}
	case os.Getenv("DISPLAY") != "":
		err := copyX11(text)
		if !errors.Is(err, errNoDisplay) {
			return err // copied and marked, or a clear failure: never unmarked instead
		}
		for _, c := range [][]string{{"xclip", "-selection", "clipboard"}, {"xsel", "--clipboard", "--input"}} {
			if exe, err := exec.LookPath(c[0]); err == nil {
				return runCopier(exe, c[1:], text)
			}
		}
	}
	return ErrUnavailable
}

var wlSensitive struct {
	once sync.Once
	yes  bool
}

func wlCopyHasSensitive(exe string) bool {
	wlSensitive.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		out, _ := exec.CommandContext(ctx, exe, "--help").CombinedOutput()
		wlSensitive.yes = strings.Contains(string(out), "--sensitive")
	})
	return wlSensitive.yes
}

func runCopier(exe string, args []string, text string) error {
	cmd := exec.Command(exe, args...)
	cmd.Stdin = strings.NewReader(text)
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting %s: %w", exe, err)
	}
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(3 * time.Second):
		// The copier stays to serve the selection; it has read the text by now.
		go func() { <-done }()
		return nil
	}
}
