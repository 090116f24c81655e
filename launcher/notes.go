package launcher

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/heidi-tray/heidi-tray/launcher/outbox"
	"github.com/heidi-tray/heidi-tray/launcher/wire"
)

// PushNote saves a note the clinician pushed from the view wl: durably to
// the outbox first (only then is the page told it worked), then to the
// clipboard and to IPC subscribers. Everything it is filed under comes from
// wl, the launch the window showed, never from what the window shows now.
func (l *Launcher) PushNote(ctx context.Context, wl Launch, kind string, payload []byte) (string, error) {
	if l.d.Outbox == nil {
		return "", errors.New("the outbox is not configured")
	}
	now := time.Now()
	n := wire.Note{
		ID: outbox.NewID(now), ContentKey: outbox.ContentKey(wl.ID, kind, payload), LaunchID: wl.ID, Kind: kind,
		Time: now.UTC().Format(time.RFC3339Nano), Clinician: wl.Req.Clinician, EncounterID: wl.Req.EncounterID,
		SessionID: wl.HeidiSessionID, Text: NoteText(kind, payload), Payload: json.RawMessage(payload),
	}
	if p := wl.Req.Patient; p != nil {
		n.PatientID, n.PatientName, n.PatientDOB = p.ID, p.Name, p.DOB
	}
	if strings.TrimSpace(n.Text) == "" {
		return "", fail(wire.CodeInvalidRequest, errors.New("the note is empty (Heidi sent no note text or document content); nothing was saved"))
	}
	n.Warning = crossCheck(wl, payload)
	if n.Warning != "" {
		l.d.Log.Warn("a pushed note disagrees with its launch", "launch_id", wl.ID, "warning", n.Warning)
	}
	n, dup, err := l.d.Outbox.Add(n)
	if err != nil {
		return "", fmt.Errorf("the note could not be saved: %w", err)
	}
	if dup {
		l.d.Log.Info("a note pushed again was recognised", "note_id", n.ID, "launch_id", wl.ID)
		return "Already saved for the EMR.", nil
	}
	l.d.Log.Info("note saved to the outbox", "note_id", n.ID, "seq", n.Seq, "kind", kind, "clinician", wl.Req.Clinician, "launch_id", wl.ID)
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

// crossCheck compares what Heidi put in the payload (its session and
// patient, where it says) with the launch the note is filed under.
func crossCheck(wl Launch, payload []byte) string {
	var p struct {
		SessionID   any `json:"sessionId"`
		PatientInfo *struct {
			ID any `json:"id"`
		} `json:"patientInfo"`
	}
	if json.Unmarshal(payload, &p) != nil {
		return ""
	}
	if sid, ok := p.SessionID.(string); ok && sid != "" && wl.HeidiSessionID != "" && sid != wl.HeidiSessionID {
		return fmt.Sprintf("Heidi sent this note from session %q, but the launch's session is %q", sid, wl.HeidiSessionID)
	}
	if p.PatientInfo != nil {
		pid, _ := p.PatientInfo.ID.(string)
		want := ""
		if wl.Req.Patient != nil {
			want = wl.Req.Patient.ID
		}
		if pid != "" && pid != want {
			return fmt.Sprintf("Heidi sent this note for patient id %q, but the launch's patient id is %q", pid, want)
		}
	}
	return ""
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

// Notes lists unacknowledged notes after the cursor, oldest first, and the
// feed's last sequence number.
func (l *Launcher) Notes(_ context.Context, after uint64, limit int) ([]wire.Note, uint64, error) {
	if l.d.Outbox == nil {
		return nil, 0, errors.New("the outbox is not configured")
	}
	last := l.d.Outbox.LastSeq()
	notes, err := l.d.Outbox.Pending(after, limit)
	return notes, last, err
}

// AckNote files a note as done for the EMR.
func (l *Launcher) AckNote(_ context.Context, id, owner string) (already bool, err error) {
	already, err = l.d.Outbox.Ack(id, owner)
	switch {
	case errors.Is(err, outbox.ErrUnknown):
		return false, fail(wire.CodeNotFound, fmt.Errorf("there is no note %q (it may have been acknowledged and removed)", id))
	case errors.Is(err, outbox.ErrClaimed):
		return false, fail(wire.CodeClaimed, err)
	case err != nil:
		return false, err
	}
	if !already {
		l.d.Log.Info("note acknowledged by the EMR", "note_id", id)
	}
	return already, nil
}

// ClaimNote reserves a note for one EMR process for a while.
func (l *Launcher) ClaimNote(_ context.Context, id, owner string, lease time.Duration) error {
	err := l.d.Outbox.Claim(id, owner, lease)
	switch {
	case errors.Is(err, outbox.ErrUnknown):
		return fail(wire.CodeNotFound, fmt.Errorf("there is no pending note %q", id))
	case errors.Is(err, outbox.ErrClaimed):
		return fail(wire.CodeClaimed, err)
	}
	return err
}

// LastSeq is the feed's last sequence number (heartbeats carry it).
func (l *Launcher) LastSeq() uint64 {
	if l.d.Outbox == nil {
		return 0
	}
	return l.d.Outbox.LastSeq()
}

// Subscribe streams events until ctx ends.
func (l *Launcher) Subscribe(ctx context.Context) <-chan wire.Event {
	return l.hub.subscribe(ctx)
}

// WaitNote waits for the first note pushed for launchID (docs/ipc.md): every
// waiter for the launch gets it. It ends early with CodeSuperseded when the
// window moves on to another launch before a note is pushed, with
// CodeShuttingDown when the tray stops, and with ctx's error at its deadline.
func (l *Launcher) WaitNote(ctx context.Context, launchID string) (*wire.Note, error) {
	w := l.hub.wait(launchID)
	defer l.hub.unwait(launchID, w)
	select {
	case r := <-w:
		if r.note != nil {
			return r.note, nil
		}
		if r.shutdown {
			return nil, fail(wire.CodeShuttingDown, errors.New("heidi-tray stopped before a note was pushed for this launch; open Heidi again from the EMR once it runs"))
		}
		if r.by == "" {
			return nil, fail(wire.CodeSuperseded, errors.New("the Heidi window closed before a note was pushed for this launch"))
		}
		return nil, fail(wire.CodeSuperseded, fmt.Errorf("the Heidi window moved on to launch %s before a note was pushed for this launch", r.by))
	case <-ctx.Done():
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return nil, fail(wire.CodeTimeout, errors.New("no note was pushed for this launch in time"))
		}
		return nil, ctx.Err()
	}
}

// waitResult ends one WaitNote.
type waitResult struct {
	note     *wire.Note
	by       string // superseded by this launch ("" : the window closed)
	shutdown bool
}

// hub fans events out to IPC subscribers and answers note waiters. Slow
// subscribers miss events rather than stall a push (the outbox file is the
// record); waiters never miss theirs.
type hub struct {
	mu      sync.Mutex
	subs    map[chan wire.Event]struct{}
	waiters map[string]map[chan waitResult]struct{}
	// recent answers for waiters that arrive after the fact (bounded).
	recent []recentResult
	closed bool
}

type recentResult struct {
	launchID string
	r        waitResult
}

const maxRecent = 64

func (h *hub) init() {
	h.subs = map[chan wire.Event]struct{}{}
	h.waiters = map[string]map[chan waitResult]struct{}{}
}

func (h *hub) subscribe(ctx context.Context) <-chan wire.Event {
	ch := make(chan wire.Event, subBuffer)
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

// subBuffer is a subscriber's queue. A subscriber that falls this far
// behind is cut off with a "dropped" event in the last slot: it reconnects
// with its cursor and replays from the outbox (docs/ipc.md).
const subBuffer = 256

func (h *hub) publish(ev wire.Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if ev.Note != nil {
		h.answerLocked(ev.Note.LaunchID, waitResult{note: ev.Note})
	}
	for ch := range h.subs {
		if len(ch) < cap(ch)-1 {
			ch <- ev
			continue
		}
		ch <- wire.Event{Type: "dropped"}
		delete(h.subs, ch)
		close(ch)
	}
}

// left: the window moved from launch old to by; old's waiters end, unless
// a note was already pushed for old (they have it).
func (h *hub) left(old, by string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, r := range h.recent {
		if r.launchID == old && r.r.note != nil {
			return
		}
	}
	h.answerLocked(old, waitResult{by: by})
}

func (h *hub) answerLocked(launchID string, r waitResult) {
	for w := range h.waiters[launchID] {
		w <- r // buffered 1, answered once: answering removes it
	}
	delete(h.waiters, launchID)
	h.recent = append(h.recent, recentResult{launchID, r})
	if len(h.recent) > maxRecent {
		h.recent = h.recent[1:]
	}
}

func (h *hub) wait(launchID string) chan waitResult {
	w := make(chan waitResult, 1)
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		w <- waitResult{shutdown: true}
		return w
	}
	// A note already pushed (or the launch already left) answers at once;
	// a note beats a later "left".
	var found *waitResult
	for i := range h.recent {
		if r := h.recent[i]; r.launchID == launchID && (found == nil || r.r.note != nil && found.note == nil) {
			found = &h.recent[i].r
		}
	}
	if found != nil {
		w <- *found
		return w
	}
	if h.waiters[launchID] == nil {
		h.waiters[launchID] = map[chan waitResult]struct{}{}
	}
	h.waiters[launchID][w] = struct{}{}
	return w
}

func (h *hub) unwait(launchID string, w chan waitResult) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.waiters[launchID], w)
	if len(h.waiters[launchID]) == 0 {
		delete(h.waiters, launchID)
	}
}

func (h *hub) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	for ch := range h.subs {
		select { // the stream's last line says why it ends
		case ch <- wire.Event{Type: "shutdown"}:
		default:
		}
		close(ch)
	}
	clear(h.subs)
	for id, ws := range h.waiters {
		for w := range ws {
			w <- waitResult{shutdown: true}
		}
		delete(h.waiters, id)
	}
}
