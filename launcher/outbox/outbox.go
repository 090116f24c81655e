// Package outbox keeps the notes clinicians push from Heidi, one JSON file per
// push, written durably (fsync, atomic rename, directory fsync) before the
// page is told the note is saved: a crash afterwards loses nothing.
package outbox

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/heidi-tray/heidi-tray/launcher/internal/atomicfile"
)

// Outbox is a directory of notes.
type Outbox struct{ Dir string }

// New prepares dir (0700).
func New(dir string) (*Outbox, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("creating the outbox %s: %w", dir, err)
	}
	return &Outbox{Dir: dir}, nil
}

// NewID returns a sortable, unique note id.
func NewID(now time.Time) string {
	b := make([]byte, 4)
	rand.Read(b)
	return now.UTC().Format("20060102T150405.000Z") + "-" + hex.EncodeToString(b)
}

// Save writes v as <id>.json and returns the file's path once it is on disk.
func (o *Outbox) Save(id string, v any) (string, error) {
	if strings.ContainsAny(id, `/\`) || id == "" {
		return "", fmt.Errorf("bad note id %q", id)
	}
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return "", fmt.Errorf("encoding the note: %w", err)
	}
	final := filepath.Join(o.Dir, id+".json")
	if err := atomicfile.WriteFile(final, append(data, '\n'), 0o600); err != nil {
		return "", fmt.Errorf("saving the note to the outbox: %w", err)
	}
	return final, nil
}

// List returns the notes' file names, oldest first.
func (o *Outbox) List() ([]string, error) {
	ents, err := os.ReadDir(o.Dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range ents {
		if !e.IsDir() && strings.HasSuffix(e.Name(), ".json") && !strings.HasPrefix(e.Name(), ".") && !atomicfile.IsTemp(e.Name()) {
			out = append(out, filepath.Join(o.Dir, e.Name()))
		}
	}
	sort.Strings(out)
	return out, nil
}
