// Package outbox keeps the notes clinicians push from Heidi until the EMR
// has filed them: one JSON file per note, written durably (fsync, atomic
// rename, directory fsync) before the page is told the note is saved, so a
// crash afterwards loses nothing.
//
// Every note has a stable id and a sequence number that only grows, so an
// EMR can follow the feed with a cursor (docs/ipc.md). Pending notes are
// <id>.json in the outbox directory; an acknowledged note moves to acked/
// and is deleted once it is older than the retention. A re-push of the same
// content from the same launch is the same note (its content key).
package outbox

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/heidi-tray/heidi-tray/launcher/internal/atomicfile"
	"github.com/heidi-tray/heidi-tray/launcher/wire"
)

// Errors of Ack and Claim.
var (
	ErrUnknown = errors.New("no note with that id")
	ErrClaimed = errors.New("the note is claimed by another EMR process")
)

// MaxLease bounds a claim.
const MaxLease = 10 * time.Minute

type entry struct {
	seq   uint64
	key   string
	file  string
	acked time.Time // zero: pending
}

type claim struct {
	owner string
	until time.Time
}

// Outbox is a directory of notes.
type Outbox struct {
	Dir string
	// Retention is how long an acknowledged note is kept (0: deleted at once).
	Retention time.Duration

	mu     sync.Mutex
	last   uint64
	notes  map[string]*entry // id -> entry, pending and acked
	byKey  map[string]string // content key -> id
	claims map[string]claim
	now    func() time.Time
}

// Open prepares dir (0700) and reads what is in it.
func Open(dir string, retention time.Duration) (*Outbox, error) {
	o := &Outbox{Dir: dir, Retention: retention, notes: map[string]*entry{}, byKey: map[string]string{}, claims: map[string]claim{}, now: time.Now}
	if err := os.MkdirAll(filepath.Join(dir, "acked"), 0o700); err != nil {
		return nil, fmt.Errorf("creating the outbox %s: %w", dir, err)
	}
	if data, err := os.ReadFile(filepath.Join(dir, ".seq")); err == nil {
		o.last, _ = strconv.ParseUint(strings.TrimSpace(string(data)), 10, 64)
	}
	for _, sub := range []string{"", "acked"} {
		ents, err := os.ReadDir(filepath.Join(dir, sub))
		if err != nil {
			return nil, fmt.Errorf("reading the outbox: %w", err)
		}
		for _, e := range ents {
			name := e.Name()
			if e.IsDir() || !strings.HasSuffix(name, ".json") || strings.HasPrefix(name, ".") {
				continue
			}
			file := filepath.Join(dir, sub, name)
			n, err := readNote(file)
			if err != nil {
				continue // not ours, or damaged: left for a person to look at
			}
			en := &entry{seq: n.Seq, key: n.ContentKey, file: file}
			if sub == "acked" {
				en.acked = modTime(file)
			}
			o.notes[n.ID] = en
			if n.ContentKey != "" {
				o.byKey[n.ContentKey] = n.ID
			}
			o.last = max(o.last, n.Seq)
		}
	}
	return o, nil
}

func readNote(file string) (wire.Note, error) {
	var n wire.Note
	data, err := os.ReadFile(file)
	if err != nil {
		return n, err
	}
	if err := json.Unmarshal(data, &n); err != nil || n.ID == "" {
		return n, fmt.Errorf("%s is not a note", file)
	}
	return n, nil
}

func modTime(file string) time.Time {
	if fi, err := os.Stat(file); err == nil {
		return fi.ModTime()
	}
	return time.Time{}
}

// NewID returns a sortable, unique note id.
func NewID(now time.Time) string {
	b := make([]byte, 4)
	rand.Read(b)
	return now.UTC().Format("20060102T150405.000Z") + "-" + hex.EncodeToString(b)
}

// ContentKey identifies a push: the same content from the same launch is
// the same note.
func ContentKey(launchID, kind string, payload []byte) string {
	h := sha256.New()
	fmt.Fprintf(h, "heidi-tray-note-v1\x00%s\x00%s\x00", launchID, kind)
	h.Write(payload)
	return hex.EncodeToString(h.Sum(nil))[:32]
}

// Add saves n (its ID, File, Seq and ContentKey are set here) and returns it
// once it is on disk. A note with the same content key already in the
// outbox is returned instead, with dup true, and nothing is written.
func (o *Outbox) Add(n wire.Note) (saved wire.Note, dup bool, err error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if id, ok := o.byKey[n.ContentKey]; ok && n.ContentKey != "" {
		e := o.notes[id]
		if prev, err := readNote(e.file); err == nil {
			return prev, true, nil
		}
		return wire.Note{ID: id, Seq: e.seq, ContentKey: e.key}, true, nil // acknowledged and deleted
	}
	if strings.ContainsAny(n.ID, `/\`) || n.ID == "" || strings.HasPrefix(n.ID, ".") {
		return n, false, fmt.Errorf("bad note id %q", n.ID)
	}
	n.Seq = o.last + 1
	n.File = filepath.Join(o.Dir, n.ID+".json")
	data, err := json.MarshalIndent(n, "", "  ")
	if err != nil {
		return n, false, fmt.Errorf("encoding the note: %w", err)
	}
	if err := atomicfile.WriteFile(n.File, append(data, '\n'), 0o600); err != nil {
		return n, false, fmt.Errorf("saving the note to the outbox: %w", err)
	}
	// The note carries its seq; the counter file only keeps seqs from being
	// reused once acknowledged notes are deleted.
	o.last = n.Seq
	if err := atomicfile.WriteFile(filepath.Join(o.Dir, ".seq"), []byte(strconv.FormatUint(o.last, 10)+"\n"), 0o600); err != nil {
		return n, false, fmt.Errorf("saving the note counter: %w", err)
	}
	o.notes[n.ID] = &entry{seq: n.Seq, key: n.ContentKey, file: n.File}
	if n.ContentKey != "" {
		o.byKey[n.ContentKey] = n.ID
	}
	return n, false, nil
}

// LastSeq is the highest sequence number given out.
func (o *Outbox) LastSeq() uint64 {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.last
}

// Pending lists unacknowledged notes with a seq above after, oldest first,
// at most limit of them.
func (o *Outbox) Pending(after uint64, limit int) ([]wire.Note, error) {
	o.mu.Lock()
	var files []*entry
	for _, e := range o.notes {
		if e.acked.IsZero() && e.seq > after {
			files = append(files, e)
		}
	}
	o.mu.Unlock()
	slices.SortFunc(files, func(a, b *entry) int { return int(int64(a.seq) - int64(b.seq)) })
	if limit > 0 && len(files) > limit {
		files = files[:limit]
	}
	out := make([]wire.Note, 0, len(files))
	for _, e := range files {
		n, err := readNote(e.file)
		if errors.Is(err, os.ErrNotExist) {
			continue // acknowledged meanwhile
		}
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, nil
}

// Claim gives owner the note for lease: other owners cannot acknowledge it
// until the lease ends. A claim by the same owner renews it.
func (o *Outbox) Claim(id, owner string, lease time.Duration) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	e := o.notes[id]
	if e == nil || !e.acked.IsZero() {
		return ErrUnknown
	}
	if c, ok := o.claims[id]; ok && c.owner != owner && o.now().Before(c.until) {
		return fmt.Errorf("%w (%s, for %s more)", ErrClaimed, c.owner, c.until.Sub(o.now()).Round(time.Second))
	}
	o.claims[id] = claim{owner: owner, until: o.now().Add(min(lease, MaxLease))}
	return nil
}

// Ack files a note as done: it leaves the pending set (moved to acked/,
// kept for Retention). Acknowledging an acknowledged note is not an error
// (already is true), so a retry after a crash is safe.
func (o *Outbox) Ack(id, owner string) (already bool, err error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	e := o.notes[id]
	if e == nil {
		return false, ErrUnknown
	}
	if !e.acked.IsZero() {
		return true, nil
	}
	if c, ok := o.claims[id]; ok && c.owner != owner && o.now().Before(c.until) {
		return false, fmt.Errorf("%w (%s)", ErrClaimed, c.owner)
	}
	dst := filepath.Join(o.Dir, "acked", filepath.Base(e.file))
	if o.Retention <= 0 {
		if err := os.Remove(e.file); err != nil {
			return false, fmt.Errorf("removing the note: %w", err)
		}
	} else if err := os.Rename(e.file, dst); err != nil {
		return false, fmt.Errorf("moving the note to acked/: %w", err)
	}
	now := o.now()
	os.Chtimes(dst, now, now) // retention counts from the acknowledgement
	e.file, e.acked = dst, now
	delete(o.claims, id)
	return false, nil
}

// Sweep deletes acknowledged notes older than the retention. It returns how
// many it deleted.
func (o *Outbox) Sweep() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	n := 0
	for id, e := range o.notes {
		if e.acked.IsZero() || o.now().Sub(e.acked) < o.Retention {
			continue
		}
		if err := os.Remove(e.file); err == nil || errors.Is(err, os.ErrNotExist) {
			delete(o.notes, id)
			if o.byKey[e.key] == id {
				delete(o.byKey, e.key)
			}
			n++
		}
	}
	return n
}
