package launcher

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"time"

	"github.com/heidi-tray/heidi-tray/launcher/outbox"
	"github.com/heidi-tray/heidi-tray/launcher/wire"
)

// PushNote saves a note the clinician pushed from Heidi: durably to the
// outbox first (only then is the page told it worked), then to the
// clipboard and to IPC subscribers.
func (l *Launcher) PushNote(ctx context.Context, wl Launch, sid, kind string, payload []byte) (string, error) {
	if l.d.Outbox == nil {
		return "", errors.New("the outbox is not configured")
	}
	now := time.Now()
	id := outbox.NewID(now)
	n := wire.Note{
		ID: id, LaunchID: wl.ID, Kind: kind, Time: now.UTC().Format(time.RFC3339Nano),
		Clinician: wl.Req.Clinician, EncounterID: wl.Req.EncounterID, SessionID: sid,
		Text: NoteText(kind, payload), Payload: json.RawMessage(payload),
		File: filepath.Join(l.d.Outbox.Dir, id+".json"),
	}
	if wl.Req.Patient != nil {
		n.PatientID = wl.Req.Patient.ID
	}
	if _, err := l.d.Outbox.Save(id, n); err != nil {
		return "", fmt.Errorf("the note could not be saved: %w", err)
	}
	l.d.Log.Info("note saved to the outbox", "note_id", id, "kind", kind, "clinician", wl.Req.Clinician)
	msg := "Saved for the EMR."
	if l.d.Settings.Clipboard && l.d.Clipboard != nil && n.Text != "" {
		if err := l.d.Clipboard(n.Text); err != nil {
			l.d.Log.Info("note not copied to the clipboard", "err", err)
		} else {
			msg = "Saved for the EMR and copied to the clipboard."
		}
	}
	l.hub.publish(wire.Event{Type: "note", Note: &n})
	return msg, nil
}

// NoteText is the plain text of a push: the note (notesData/noteData, a
// string or a template object) or the document's title and content.
func NoteText(kind string, payload []byte) string {
	var p map[string]json.RawMessage
	if json.Unmarshal(payload, &p) != nil {
		return ""
	}
	str := func(k string) string {
		var s string
		if json.Unmarshal(p[k], &s) == nil {
			return s
		}
		if raw := p[k]; len(raw) > 0 && string(raw) != "null" {
			return string(raw) // a template object: keep it as JSON text
		}
		return ""
	}
	if kind == "document" {
		t, c := str("title"), str("content")
		if t != "" && c != "" {
			return t + "\n\n" + c
		}
		return t + c
	}
	if s := str("notesData"); s != "" {
		return s
	}
	return str("noteData")
}

// Subscribe streams events until ctx ends.
func (l *Launcher) Subscribe(ctx context.Context) <-chan wire.Event {
	return l.hub.subscribe(ctx)
}

// WaitNote waits for the first note pushed for launchID.
func (l *Launcher) WaitNote(ctx context.Context, launchID string) (*wire.Note, error) {
	ch := l.hub.subscribe(ctx)
	if n := l.hub.recentNote(launchID); n != nil {
		return n, nil
	}
	for ev := range ch {
		if ev.Note != nil && ev.Note.LaunchID == launchID {
			return ev.Note, nil
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return nil, fail(wire.CodeShuttingDown, errors.New("heidi-tray is shutting down; the note, if pushed, is in the outbox"))
}

// hub fans events out to IPC subscribers. Slow subscribers miss events
// rather than stall a push (the outbox file is the record).
type hub struct {
	mu     sync.Mutex
	subs   map[chan wire.Event]struct{}
	recent []*wire.Note
	closed bool
}

func (h *hub) init() { h.subs = map[chan wire.Event]struct{}{} }

func (h *hub) subscribe(ctx context.Context) <-chan wire.Event {
	ch := make(chan wire.Event, 64)
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		close(ch)
		return ch
	}
	h.subs[ch] = struct{}{}
	h.mu.Unlock()
	context.AfterFunc(ctx, func() {
		h.mu.Lock()
		if _, ok := h.subs[ch]; ok {
			delete(h.subs, ch)
			close(ch)
		}
		h.mu.Unlock()
	})
	return ch
}

func (h *hub) publish(ev wire.Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if ev.Note != nil {
		h.recent = append(h.recent, ev.Note)
		if len(h.recent) > 16 {
			h.recent = h.recent[1:]
		}
	}
	for ch := range h.subs {
		select {
		case ch <- ev:
		default:
		}
	}
}

func (h *hub) recentNote(launchID string) *wire.Note {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, n := range h.recent {
		if n.LaunchID == launchID {
			return n
		}
	}
	return nil
}

func (h *hub) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	for ch := range h.subs {
		close(ch)
	}
	clear(h.subs)
}
