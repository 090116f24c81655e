package ipc

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/heidi-tray/heidi-tray/launcher/wire"
)

// The note feed: GET /v1/notes, POST /v1/notes/{id}/claim|ack, and the
// replay of /v1/events?after= (docs/ipc.md).

// maxNotesPage bounds one GET /v1/notes answer.
const maxNotesPage = 500

// Heartbeat is how often /v1/events writes a heartbeat line.
var Heartbeat = 15 * time.Second

func (s *Server) registerNotes(mux *http.ServeMux) {
	mux.HandleFunc("GET /v1/notes", s.listNotes)
	mux.HandleFunc("POST /v1/notes/{id}/ack", s.ackNote)
	mux.HandleFunc("POST /v1/notes/{id}/claim", s.claimNote)
}

// cursor reads ?after=SEQ (default 0).
func cursor(w http.ResponseWriter, r *http.Request) (uint64, bool) {
	v := r.URL.Query().Get("after")
	if v == "" {
		return 0, true
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		writeErr(w, http.StatusBadRequest, wire.CodeInvalidRequest, "after must be a note sequence number (a whole number from 0)")
		return 0, false
	}
	return n, true
}

func (s *Server) listNotes(w http.ResponseWriter, r *http.Request) {
	after, ok := cursor(w, r)
	if !ok {
		return
	}
	limit := maxNotesPage
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxNotesPage {
			writeErr(w, http.StatusBadRequest, wire.CodeInvalidRequest, fmt.Sprintf("limit must be from 1 to %d", maxNotesPage))
			return
		}
		limit = n
	}
	notes, last, err := s.svc.Notes(r.Context(), after, limit)
	if err != nil {
		s.writeError(w, err)
		return
	}
	if notes == nil {
		notes = []wire.Note{}
	}
	writeJSON(w, http.StatusOK, wire.NotesPage{Notes: notes, LastSeq: last})
}

func noteID(w http.ResponseWriter, r *http.Request) (string, bool) {
	id := r.PathValue("id")
	if !validToken(id) {
		writeErr(w, http.StatusBadRequest, wire.CodeInvalidRequest, "the note id is 1-128 printable characters")
		return "", false
	}
	return id, true
}

func validToken(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// ownerBody is the optional body of ack and claim: who is asking.
type ownerBody struct {
	Owner        string `json:"owner"`
	LeaseSeconds int    `json:"lease_seconds"`
}

func (s *Server) readOwner(w http.ResponseWriter, r *http.Request) (ownerBody, bool) {
	var in ownerBody
	if r.ContentLength != 0 && !decodeJSON(w, r, &in) {
		return in, false
	}
	if in.Owner != "" && !validToken(in.Owner) {
		writeErr(w, http.StatusBadRequest, wire.CodeInvalidRequest, "owner is 1-128 printable characters, e.g. the EMR process's host and pid")
		return in, false
	}
	return in, true
}

func (s *Server) ackNote(w http.ResponseWriter, r *http.Request) {
	id, ok := noteID(w, r)
	if !ok {
		return
	}
	in, ok := s.readOwner(w, r)
	if !ok {
		return
	}
	already, err := s.svc.AckNote(r.Context(), id, in.Owner)
	if err != nil {
		s.writeError(w, err)
		return
	}
	status := "acked"
	if already {
		status = "already_acked"
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": status, "id": id})
}

func (s *Server) claimNote(w http.ResponseWriter, r *http.Request) {
	id, ok := noteID(w, r)
	if !ok {
		return
	}
	in, ok := s.readOwner(w, r)
	if !ok {
		return
	}
	if in.Owner == "" || in.LeaseSeconds < 1 || in.LeaseSeconds > 600 {
		writeErr(w, http.StatusBadRequest, wire.CodeInvalidRequest, `claim needs {"owner": "…", "lease_seconds": 1-600}`)
		return
	}
	if err := s.svc.ClaimNote(r.Context(), id, in.Owner, time.Duration(in.LeaseSeconds)*time.Second); err != nil {
		s.writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "claimed", "id": id, "owner": in.Owner, "lease_seconds": in.LeaseSeconds})
}

// events streams newline-delimited JSON: with ?after=SEQ, first every
// pending note after SEQ from the outbox, then live events; a heartbeat
// line every Heartbeat; a "dropped" line, and the end, for a subscriber
// that fell behind (reconnect with the last seq seen).
func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	fl, ok := w.(http.Flusher)
	if !ok {
		writeErr(w, http.StatusInternalServerError, wire.CodeInternal, "streaming is not supported here")
		return
	}
	after, ok := cursor(w, r)
	if !ok {
		return
	}
	replay := r.URL.Query().Has("after")
	ch := s.svc.Subscribe(r.Context()) // before the replay: nothing falls between
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.WriteHeader(http.StatusOK)
	enc := json.NewEncoder(w)
	sent := after
	write := func(ev wire.Event) bool {
		if enc.Encode(ev) != nil {
			return false
		}
		fl.Flush()
		return true
	}
	if replay {
		for {
			notes, _, err := s.svc.Notes(r.Context(), sent, maxNotesPage)
			if err != nil {
				write(wire.Event{Type: "error", Message: err.Error()})
				return
			}
			for i := range notes {
				if !write(wire.Event{Type: "note", Note: &notes[i]}) {
					return
				}
				sent = notes[i].Seq
			}
			if len(notes) < maxNotesPage {
				break
			}
		}
	}
	if !write(wire.Event{Type: "heartbeat", LastSeq: s.svc.LastSeq()}) {
		return
	}
	beat := time.NewTicker(Heartbeat)
	defer beat.Stop()
	for {
		select {
		case ev, ok := <-ch:
			if !ok {
				return
			}
			if ev.Note != nil && ev.Note.Seq <= sent {
				continue // already replayed
			}
			if ev.Type == "dropped" {
				ev.LastSeq = sent
			}
			if !write(ev) || ev.Type == "dropped" {
				return
			}
			if ev.Note != nil {
				sent = ev.Note.Seq
			}
		case <-beat.C:
			if !write(wire.Event{Type: "heartbeat", LastSeq: s.svc.LastSeq()}) {
				return
			}
		case <-r.Context().Done():
			return
		}
	}
}

// jsonErrors turns the mux's plain-text 404 and 405 into JSON errors, so
// every answer of the local API is JSON (docs/ipc.md).
type jsonErrors struct {
	http.ResponseWriter
	swallow bool
}

func (j *jsonErrors) WriteHeader(code int) {
	if (code == http.StatusNotFound || code == http.StatusMethodNotAllowed) && j.Header().Get("Content-Type") != "application/json" {
		var b wire.ErrorBody
		b.Error.Code, b.Error.Message = wire.CodeNotFound, "no such endpoint; see docs/ipc.md"
		if code == http.StatusMethodNotAllowed {
			b.Error.Code, b.Error.Message = wire.CodeMethodNotAllowed, "this endpoint takes "+j.Header().Get("Allow")
		}
		j.Header().Set("Content-Type", "application/json")
		j.Header().Del("X-Content-Type-Options")
		j.ResponseWriter.WriteHeader(code)
		json.NewEncoder(j.ResponseWriter).Encode(b)
		j.swallow = true
		return
	}
	j.ResponseWriter.WriteHeader(code)
}

func (j *jsonErrors) Write(p []byte) (int, error) {
	if j.swallow {
		return len(p), nil
	}
	return j.ResponseWriter.Write(p)
}

func (j *jsonErrors) Flush() {
	if f, ok := j.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (j *jsonErrors) Unwrap() http.ResponseWriter { return j.ResponseWriter }
