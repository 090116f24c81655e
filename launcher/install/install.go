// Package install registers heidi-tray with the desktop for the current user
// — the heidi-tray:// URL scheme and start at login — and removes every trace
// of it again. Both directions are idempotent and report what they changed.
package install

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/heidi-tray/heidi-tray/launcher/internal/atomicfile"
)

// Report lists what a run changed (or found already in place).
type Report []string

func (r *Report) add(format string, a ...any) { *r = append(*r, fmt.Sprintf(format, a...)) }

// writeFile writes data unless the file already holds it.
func writeFile(r *Report, path string, data []byte, mode os.FileMode) error {
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, data) {
		r.add("unchanged: %s", path)
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	if err := atomicfile.WriteFile(path, data, mode); err != nil {
		return err
	}
	r.add("wrote: %s", path)
	return nil
}

// removeFile removes path if it exists.
func removeFile(r *Report, path string) error {
	err := os.Remove(path)
	switch {
	case err == nil:
		r.add("removed: %s", path)
	case errors.Is(err, os.ErrNotExist):
	default:
		return err
	}
	return nil
}
