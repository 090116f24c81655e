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
	tmp, err := os.CreateTemp(o.Dir, ".incoming-*")
	if err != nil {
		return "", fmt.Errorf("writing to the outbox: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op after a successful rename
	if _, err := tmp.Write(append(data, '\n')); err != nil {
		tmp.Close()
		return "", fmt.Errorf("writing to the outbox: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return "", fmt.Errorf("flushing the note to disk: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return "", fmt.Errorf("writing to the outbox: %w", err)
	}
	if err := os.Rename(tmp.Name(), final); err != nil {
		return "", fmt.Errorf("placing the note in the outbox: %w", err)
	}
	if d, err := os.Open(o.Dir); err == nil { // make the rename itself durable
		d.Sync()
		d.Close()
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
		if !e.IsDir() && strings.HasSuffix(e.Name(), ".json") && !strings.HasPrefix(e.Name(), ".") {
			out = append(out, filepath.Join(o.Dir, e.Name()))
		}
	}
	sort.Strings(out)
	return out, nil
}
