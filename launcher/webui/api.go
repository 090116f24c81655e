package webui

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/heidi-tray/heidi-tray/launcher"
	"github.com/heidi-tray/heidi-tray/launcher/heidiapi"
	"github.com/heidi-tray/heidi-tray/launcher/internal/strictjson"
	"github.com/heidi-tray/heidi-tray/launcher/request"
	"github.com/heidi-tray/heidi-tray/launcher/wire"
)

// maxPush bounds one pushed note (a long letter with a transcript).
const maxPush = 2 << 20

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func apiErr(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]any{"error": map[string]string{"code": code, "message": msg}})
}

func decode(w http.ResponseWriter, r *http.Request, limit int64, v any) bool {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		apiErr(w, http.StatusRequestEntityTooLarge, "too_large", "the request is too large")
		return false
	}
	if err := strictjson.Decode(body, v); err != nil {
		apiErr(w, http.StatusBadRequest, "bad_json", err.Error())
		return false
	}
	return true
}

// mustPage answers 401 when the browser has no live session.
func (s *Server) mustPage(w http.ResponseWriter, r *http.Request) *page {
	p := s.pageFor(r)
	if p == nil {
		apiErr(w, http.StatusUnauthorized, "signed_out", "this window is signed out; open Heidi again from the EMR")
	}
	return p
}

type sessionReply struct {
	RunID        string            `json:"run_id"`
	Clinician    request.Clinician `json:"clinician"`
	Region       string            `json:"region"`
	ProductName  string            `json:"product_name"`
	Token        string            `json:"token"`
	View         *viewEvent        `json:"view"`
	Recording    bool              `json:"recording"`
	AwaitingNote bool              `json:"awaiting_note"`
	Pending      *event            `json:"pending,omitempty"`
	WidgetScript string            `json:"widget_script"`
	Sandbox      bool              `json:"sandbox"`
	HeartbeatMS  int64             `json:"heartbeat_ms"`
}

// apiSession starts (or, after a reload, restarts) a page: its token and
// the view it shows. A reload ends any recording the page had reported:
// the widget that made it is gone, and the new one reports its own.
func (s *Server) apiSession(w http.ResponseWriter, r *http.Request) {
	var in struct{}
	if !decode(w, r, 1024, &in) {
		return
	}
	p := s.mustPage(w, r)
	if p == nil {
		return
	}
	if !s.onlyTabLocked(p) {
		apiErr(w, http.StatusConflict, "open_elsewhere", "this Heidi window is already open in another tab or window of this browser; use that one and close this tab")
		return
	}
	cl := p.clinician
	s.confirmLocked(p, p.next) // a (re)loaded page opens the newest view it was sent
	wasRecording := p.recording
	if wasRecording {
		// The widget that recorded is gone with the reload; Heidi may still
		// write that recording's note in the session the page reopens.
		p.recording = false
		p.awaitingNote = true
	}
	s.mu.Unlock()
	if wasRecording {
		s.notifyRecording()
	}
	tok, err := s.backend.Token(r.Context(), cl)
	if err != nil {
		s.upstreamErr(w, err)
		return
	}
	s.mu.Lock()
	p.lastToken = tok.JWT
	reply := sessionReply{RunID: s.runID, Clinician: cl, Region: cl.Region, ProductName: s.opt.ProductName, Token: tok.JWT.Reveal(),
		AwaitingNote: p.awaitingNote, WidgetScript: s.opt.WidgetScript, Sandbox: s.opt.Sandbox, HeartbeatMS: s.heartbeat().Milliseconds()}
	if v := p.currentView(); v != nil {
		reply.View = v.wire()
	}
	if p.held != nil {
		ev := pendingLocked(p)
		reply.Pending = &ev
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, reply)
}

// onlyTabLocked: a page's session is for one tab. A second tab on the same
// cookie (a duplicated or restored tab) while the first still streams would
// make two widgets report for one window, so it is refused; a reload's old
// stream closes within moments, so it is waited for. Returns with s.mu held.
func (s *Server) onlyTabLocked(p *page) bool {
	deadline := time.Now().Add(2 * time.Second)
	s.mu.Lock()
	for len(p.subs) > 0 {
		if time.Now().After(deadline) {
			s.mu.Unlock()
			return false
		}
		s.mu.Unlock()
		time.Sleep(25 * time.Millisecond)
		s.mu.Lock()
	}
	return true
}

// apiShown: the page shows the view it was sent.
func (s *Server) apiShown(w http.ResponseWriter, r *http.Request) {
	var in struct {
		ViewID string `json:"view_id"`
	}
	if !decode(w, r, 1024, &in) {
		return
	}
	p, _, ok := s.lockView(w, r, in.ViewID)
	if !ok {
		return
	}
	s.confirmLocked(p, in.ViewID)
	s.mu.Unlock()
	s.windowChanged()
	writeJSON(w, http.StatusOK, map[string]bool{"shown": true})
}

// apiToken answers onTokenExpired: a token other than the one the page holds.
func (s *Server) apiToken(w http.ResponseWriter, r *http.Request) {
	var in struct{}
	if !decode(w, r, 1024, &in) {
		return
	}
	p := s.mustPage(w, r)
	if p == nil {
		return
	}
	s.mu.Lock()
	cl, stale := p.clinician, p.lastToken
	s.mu.Unlock()
	tok, err := s.backend.RefreshToken(r.Context(), cl, stale)
	if err != nil {
		s.upstreamErr(w, err)
		return
	}
	s.mu.Lock()
	p.lastToken = tok.JWT
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]string{"token": tok.JWT.Reveal()})
}

func (s *Server) upstreamErr(w http.ResponseWriter, err error) {
	s.opt.Log.Warn("the page could not get a token", "err", err)
	status := http.StatusBadGateway
	if heidiapi.IsKind(err, heidiapi.RateLimited) {
		status = http.StatusTooManyRequests
	}
	apiErr(w, status, "token_unavailable", err.Error())
}

// lockView finds the request's page and the view the call names, which
// must be one that page was put in. On success it returns with s.mu held;
// otherwise it has answered the request.
func (s *Server) lockView(w http.ResponseWriter, r *http.Request, id string) (*page, *view, bool) {
	p := s.mustPage(w, r)
	if p == nil {
		return nil, nil, false
	}
	s.mu.Lock()
	v := p.views[id]
	if v == nil {
		s.mu.Unlock()
		apiErr(w, http.StatusConflict, "unknown_view", "this window was not put in that view; reload it or open Heidi again from your EMR")
		return nil, nil, false
	}
	return p, v, true
}

var validID = func(id string) bool {
	return id != "" && len(id) <= 128 && !strings.ContainsFunc(id, func(r rune) bool { return r < 0x21 || r > 0x7e })
}

func (s *Server) apiPush(w http.ResponseWriter, r *http.Request) {
	var in struct {
		ViewID  string          `json:"view_id"`
		Kind    string          `json:"kind"`
		Payload json.RawMessage `json:"payload"`
	}
	if !decode(w, r, maxPush, &in) {
		return
	}
	if in.Kind != "data" && in.Kind != "document" {
		apiErr(w, http.StatusBadRequest, "bad_kind", "kind must be data or document")
		return
	}
	if len(in.Payload) == 0 || string(in.Payload) == "null" {
		apiErr(w, http.StatusBadRequest, "empty", "the note is empty")
		return
	}
	p, v, ok := s.lockView(w, r, in.ViewID)
	if !ok {
		return
	}
	// Heidi's widget reports a push asynchronously: if its payload names
	// the Heidi session of another view of this window, the note is that
	// view's (it was written there), whatever the page shows by now.
	if sid := payloadSession(in.Payload); sid != "" && sid != v.heidiSID {
		for _, other := range p.views {
			if other.heidiSID == sid {
				s.opt.Log.Info("a note filed by the Heidi session it names, not the view the page reported", "named", v.launch.ID, "filed", other.launch.ID)
				v = other
				break
			}
		}
	}
	viewID := v.launch.ID
	l := v.launch
	l.HeidiSessionID = v.heidiSID
	s.mu.Unlock()
	msg, err := s.backend.PushNote(r.Context(), l, in.Kind, in.Payload)
	if launcher.ErrorCode(err) == wire.CodeInvalidRequest {
		apiErr(w, http.StatusBadRequest, "empty", err.Error())
		return
	}
	if err != nil {
		s.opt.Log.Error("a pushed note could not be saved", "err", err)
		apiErr(w, http.StatusInternalServerError, "not_saved", err.Error())
		return
	}
	// The note of the last recording is in: a held switch may go ahead.
	s.mu.Lock()
	if p.awaitingNote && p.recordingView == viewID && !p.recording {
		p.awaitingNote = false
		s.noteDoneLocked(p)
	}
	s.mu.Unlock()
	s.windowChanged()
	writeJSON(w, http.StatusOK, map[string]any{"saved": true, "message": msg})
}

// apiDiscard: the clinician moves on without pushing the last recording's
// note; a held switch goes ahead.
func (s *Server) apiDiscard(w http.ResponseWriter, r *http.Request) {
	var in struct {
		ViewID string `json:"view_id"`
	}
	if !decode(w, r, 1024, &in) {
		return
	}
	p, _, ok := s.lockView(w, r, in.ViewID)
	if !ok {
		return
	}
	if p.recording {
		s.mu.Unlock()
		apiErr(w, http.StatusConflict, "recording", "stop the recording first")
		return
	}
	s.opt.Log.Info("the clinician moved on without pushing the last note", "view", in.ViewID)
	p.awaitingNote = false
	s.noteDoneLocked(p)
	s.mu.Unlock()
	s.windowChanged()
	writeJSON(w, http.StatusOK, map[string]bool{"discarded": true})
}

// apiAnswer is the person's answer to an unsigned URL's patient change:
// Switch (/api/switch) or Stay (/api/stay).
func (s *Server) apiAnswer(doSwitch bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			ViewID    string `json:"view_id"`
			PendingID string `json:"pending_id"`
		}
		if !decode(w, r, 1024, &in) {
			return
		}
		p, _, ok := s.lockView(w, r, in.ViewID)
		if !ok {
			return
		}
		if p.held == nil || p.held.launch.ID != in.PendingID || !p.held.ask {
			s.mu.Unlock()
			apiErr(w, http.StatusConflict, "no_question", "the EMR's request has changed or gone; look at the window again")
			return
		}
		if p.recording || p.awaitingNote {
			s.mu.Unlock()
			apiErr(w, http.StatusConflict, "note_outstanding", "push or discard the last recording's note first")
			return
		}
		if doSwitch {
			s.opt.Log.Info("the clinician switched patient at an unsigned URL's request", "launch_id", in.PendingID)
			s.applyLocked(p, p.held)
		} else {
			s.opt.Log.Info("the clinician stayed on the patient; an unsigned URL's switch was declined", "launch_id", in.PendingID)
			s.dropHeldLocked(p, p.current)
			p.sendLocked(event{Type: "pending_cleared", PendingID: in.PendingID})
		}
		s.mu.Unlock()
		s.windowChanged()
		writeJSON(w, http.StatusOK, map[string]bool{"switched": doSwitch})
	}
}

func (s *Server) apiRecording(w http.ResponseWriter, r *http.Request) {
	var in struct {
		ViewID string `json:"view_id"`
		Status string `json:"status"`
	}
	if !decode(w, r, 1024, &in) {
		return
	}
	var recording bool
	switch in.Status {
	case "RECORDING", "PAUSED":
		recording = true
	case "STOPPED", "NOT_STARTED":
	default:
		apiErr(w, http.StatusBadRequest, "bad_status", "status must be RECORDING, PAUSED, STOPPED or NOT_STARTED")
		return
	}
	p, _, ok := s.lockView(w, r, in.ViewID)
	if !ok {
		return
	}
	changed := p.recording != recording
	if in.ViewID == p.next {
		s.confirmLocked(p, in.ViewID) // it shows next: its "shown" is on the way
	}
	switch {
	case recording && !p.recording:
		p.recordingView = in.ViewID
		if p.next != "" { // recording in the view it shows, before the switch it was sent
			s.unshowLocked(p, "recording")
		}
	case !recording && p.recording:
		p.awaitingNote = true // Heidi writes the note after the recording stops
		if p.next != "" {
			s.unshowLocked(p, "note")
		} else if p.held != nil {
			p.sendLocked(p.held.event("note"))
		}
	}
	p.recording = recording
	s.mu.Unlock()
	if changed {
		s.notifyRecording()
	}
	writeJSON(w, http.StatusOK, map[string]bool{"recording": recording})
}

func (s *Server) apiSessionStarted(w http.ResponseWriter, r *http.Request) {
	var in struct {
		ViewID    string `json:"view_id"`
		SessionID string `json:"session_id"`
	}
	if !decode(w, r, 1024, &in) {
		return
	}
	if !validID(in.SessionID) {
		apiErr(w, http.StatusBadRequest, "bad_session", "session_id must be 1-128 printable characters")
		return
	}
	_, v, ok := s.lockView(w, r, in.ViewID)
	if !ok {
		return
	}
	v.heidiSID = in.SessionID
	l := v.launch
	s.mu.Unlock()
	s.backend.SessionStarted(l, in.SessionID)
	s.windowChanged()
	writeJSON(w, http.StatusOK, map[string]bool{"stored": true})
}

// events is the page's server-sent event stream (read-only): hello with
// the tray's run id, then the page's events and a heartbeat.
func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	p := s.pageFor(r)
	if p == nil {
		http.Error(w, "signed out", http.StatusUnauthorized)
		return
	}
	fl, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "no streaming", http.StatusInternalServerError)
		return
	}
	ch := make(chan event, 16)
	s.mu.Lock()
	if p.subs == nil { // signed out meanwhile
		s.mu.Unlock()
		http.Error(w, "signed out", http.StatusUnauthorized)
		return
	}
	p.subs[ch] = struct{}{}
	p.connected = s.opt.Now()
	if p.goneTimer != nil {
		p.goneTimer.Stop()
		p.goneTimer = nil
	}
	var catchUp []event
	switch {
	case p.replaceURL != "":
		catchUp = append(catchUp, event{Type: "replace", URL: p.replaceURL})
	case p.superseded:
		catchUp = append(catchUp, event{Type: "superseded"})
	case p.next != "":
		catchUp = append(catchUp, event{Type: "show", View: p.views[p.next].wire()})
	case p.held != nil:
		catchUp = append(catchUp, pendingLocked(p))
	}
	if p.endTimer != nil { // the window is back
		p.endTimer.Stop()
		p.endTimer = nil
	}
	s.mu.Unlock()
	s.windowChanged()
	defer func() {
		s.mu.Lock()
		if p.subs != nil {
			delete(p.subs, ch)
			s.streamClosedLocked(p)
		}
		s.mu.Unlock()
		s.windowChanged()
	}()
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(http.StatusOK)
	send := func(ev event) bool {
		data, _ := json.Marshal(ev)
		if _, err := fmt.Fprintf(w, "data: %s\n\n", data); err != nil {
			return false
		}
		fl.Flush()
		return true
	}
	if !send(event{Type: "hello", RunID: s.runID}) {
		return
	}
	// A page that reconnects hears what it missed meanwhile.
	for _, ev := range catchUp {
		if !send(ev) {
			return
		}
	}
	beat := time.NewTicker(s.heartbeat())
	defer beat.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-beat.C:
			if !send(event{Type: "heartbeat", RunID: s.runID}) {
				return
			}
		case ev, ok := <-ch:
			if !ok || !send(ev) {
				return
			}
		}
	}
}

func (s *Server) heartbeat() time.Duration {
	if s.opt.Heartbeat > 0 {
		return s.opt.Heartbeat
	}
	return Heartbeat
}

// payloadSession is the Heidi session id a push names (sessionId), if any.
func payloadSession(payload []byte) string {
	var p struct {
		SessionID any `json:"sessionId"`
	}
	if json.Unmarshal(payload, &p) != nil {
		return ""
	}
	sid, _ := p.SessionID.(string)
	return sid
}
