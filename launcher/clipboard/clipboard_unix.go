//go:build !windows && !darwin

package clipboard

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"
)

func copyText(text string) error {
	var candidates [][]string
	switch {
	case os.Getenv("WAYLAND_DISPLAY") != "":
		candidates = [][]string{{"wl-copy"}}
	case os.Getenv("DISPLAY") != "":
		candidates = [][]string{{"xclip", "-selection", "clipboard"}, {"xsel", "--clipboard", "--input"}}
	}
	for _, c := range candidates {
		exe, err := exec.LookPath(c[0])
		if err != nil {
			continue
		}
		cmd := exec.Command(exe, c[1:]...)
		cmd.Stdin = strings.NewReader(text)
		done := make(chan error, 1)
		if err := cmd.Start(); err != nil {
			return fmt.Errorf("starting %s: %w", c[0], err)
		}
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			return err
		case <-time.After(3 * time.Second):
			// xclip stays to serve the selection; it has read the text by now.
			go func() { <-done }()
			return nil
		}
	}
	return ErrUnavailable
}
