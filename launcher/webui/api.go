package webui

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/heidi-tray/heidi-tray/launcher/heidiapi"
	"github.com/heidi-tray/heidi-tray/launcher/internal/strictjson"
	"github.com/heidi-tray/heidi-tray/launcher/request"
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
	Clinician      request.Clinician `json:"clinician"`
	Region         string            `json:"region"`
	ProductName    string            `json:"product_name"`
	Token          string            `json:"token"`
	Patient        *request.Patient  `json:"patient,omitempty"`
	EncounterID    string            `json:"encounter_id,omitempty"`
	Context        string            `json:"context,omitempty"`
	HeidiSessionID string            `json:"heidi_session_id,omitempty"`
	WidgetScript   string            `json:"widget_script"`
	Sandbox        bool              `json:"sandbox"`
}

func (s *Server) apiSession(w http.ResponseWriter, r *http.Request) {
	var in struct{}
	if !decode(w, r, 1024, &in) {
		return
	}
	p := s.mustPage(w, r)
	if p == nil {
		return
	}
	s.mu.Lock()
	l, sid := p.launch, p.heidiSID
	s.mu.Unlock()
	tok, err := s.backend.Token(r.Context(), l.Req.Clinician)
	if err != nil {
		s.upstreamErr(w, err)
		return
	}
	s.mu.Lock()
	p.lastToken = tok.JWT
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, sessionReply{
		Clinician: l.Req.Clinician, Region: l.Req.Region, ProductName: s.opt.ProductName, Token: tok.JWT.Reveal(),
		Patient: l.Req.Patient, EncounterID: l.Req.EncounterID, Context: l.Req.Context, HeidiSessionID: sid,
		WidgetScript: s.opt.WidgetScript, Sandbox: s.opt.Sandbox,
	})
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
	cl, stale := p.launch.Req.Clinician, p.lastToken
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

func (s *Server) apiPush(w http.ResponseWriter, r *http.Request) {
	var in struct {
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
	p := s.mustPage(w, r)
	if p == nil {
		return
	}
	s.mu.Lock()
	l, sid := p.launch, p.heidiSID
	s.mu.Unlock()
	msg, err := s.backend.PushNote(r.Context(), l, sid, in.Kind, in.Payload)
	if err != nil {
		s.opt.Log.Error("a pushed note could not be saved", "err", err)
		apiErr(w, http.StatusInternalServerError, "not_saved", err.Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"saved": true, "message": msg})
}

func (s *Server) apiRecording(w http.ResponseWriter, r *http.Request) {
	var in struct {
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
	p := s.mustPage(w, r)
	if p == nil {
		return
	}
	s.mu.Lock()
	p.recording = recording
	if !recording && p.held != nil {
		ev := *p.held
		p.held = nil
		if ev.Type == "patient" {
			p.launch.ID = ev.LaunchID
			p.launch.Req.Patient = ev.Patient
			p.launch.Req.Context = ev.Context
			if ev.HeidiSessionID != "" {
				p.heidiSID = ev.HeidiSessionID
			}
		}
		p.sendLocked(ev)
	}
	s.mu.Unlock()
	s.backend.RecordingChanged(recording)
	writeJSON(w, http.StatusOK, map[string]bool{"recording": recording})
}

func (s *Server) apiSessionStarted(w http.ResponseWriter, r *http.Request) {
	var in struct {
		SessionID string `json:"session_id"`
	}
	if !decode(w, r, 1024, &in) {
		return
	}
	if in.SessionID == "" || len(in.SessionID) > 128 || strings.ContainsFunc(in.SessionID, func(r rune) bool { return r < 0x21 || r > 0x7e }) {
		apiErr(w, http.StatusBadRequest, "bad_session", "session_id must be 1-128 printable characters")
		return
	}
	p := s.mustPage(w, r)
	if p == nil {
		return
	}
	s.mu.Lock()
	p.heidiSID = in.SessionID
	l := p.launch
	s.mu.Unlock()
	s.backend.SessionStarted(l, in.SessionID)
	writeJSON(w, http.StatusOK, map[string]bool{"stored": true})
}

// events is the page's server-sent event stream (read-only).
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
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		if p.subs != nil {
			delete(p.subs, ch)
		}
		s.mu.Unlock()
	}()
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, ": connected\n\n")
	fl.Flush()
	for {
		select {
		case <-r.Context().Done():
			return
		case ev, ok := <-ch:
			if !ok {
				return
			}
			data, _ := json.Marshal(ev)
			if _, err := fmt.Fprintf(w, "data: %s\n\n", data); err != nil {
				return
			}
			fl.Flush()
		}
	}
}
