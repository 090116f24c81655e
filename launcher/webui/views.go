package webui

import (
	"strings"
	"time"

	"github.com/heidi-tray/heidi-tray/launcher"
	"github.com/heidi-tray/heidi-tray/launcher/heidiapi"
	"github.com/heidi-tray/heidi-tray/launcher/request"
	"github.com/heidi-tray/heidi-tray/launcher/wire"
)

// Attribution by construction (docs/clinical-safety.md): every state a
// window is put in is a view with the id of the launch that made it. The
// page names the view with every call that records something (a note, a
// Heidi session, a recording), and the server files it under that view,
// never under "what the window shows now". A switch that would take the
// window away from a recording, or from a recording whose note has not been
// pushed yet, is held until the clinician pushes that note or discards it.

// Timings of a window's life.
const (
	// pendingCodeReuse: an open that arrives while a window is still
	// loading (its code issued this recently, not yet redeemed) updates
	// that window's launch instead of opening a second window.
	pendingCodeReuse = 10 * time.Second
	// goneAfter: a window whose event stream has been closed this long is
	// gone: it records nothing any more.
	goneAfter = 30 * time.Second
	// sessionGoneAfter: a gone window's session ends this much later.
	sessionGoneAfter = 3 * time.Minute
	// Heartbeat is how often an open event stream hears from the tray; a
	// page that hears nothing for three of them stops following the EMR.
	Heartbeat = 15 * time.Second
	// maxViews bounds the views a page remembers (older ones are refused).
	maxViews = 64
)

type pendingCode struct {
	launch  launcher.Launch
	seq     uint64 // order of the launch among all launches of this run
	issued  time.Time
	expires time.Time
}

// view is one state a window was put in.
type view struct {
	launch   launcher.Launch // ID is the view's id; Req the clinician, patient, encounter, context
	heidiSID string          // the Heidi session the widget uses for it (stored, or started in it)
	seq      uint64          // order of its launch among all launches of this run
}

// wire is what the page is told about a view.
func (v *view) wire() *viewEvent {
	return &viewEvent{ID: v.launch.ID, Patient: v.launch.Req.Patient, EncounterID: v.launch.Req.EncounterID,
		Context: v.launch.Req.Context, HeidiSessionID: v.heidiSID}
}

type viewEvent struct {
	ID             string           `json:"id"`
	Patient        *request.Patient `json:"patient"` // null: no patient
	EncounterID    string           `json:"encounter_id,omitempty"`
	Context        string           `json:"context,omitempty"`
	HeidiSessionID string           `json:"heidi_session_id,omitempty"`
}

// held is a switch waiting for the recording (or its note) to be done.
type held struct {
	launch  launcher.Launch
	seq     uint64
	replace bool // another clinician: the window starts over when applied
	ask     bool // an unsigned URL's patient change: the person chooses Switch or Stay
}

// pendingLocked is the notice a window shows for its held switch: waiting
// for the recording, for its note, or for the person's answer.
func pendingLocked(p *page) event {
	reason := "ask"
	switch {
	case p.recording:
		reason = "recording"
	case p.awaitingNote:
		reason = "note"
	}
	return p.held.event(reason)
}

// noteDoneLocked: the last recording's note is pushed or discarded, so a
// held switch goes ahead, or (an unsigned URL's) asks now.
func (s *Server) noteDoneLocked(p *page) {
	if p.held == nil {
		return
	}
	if p.held.ask {
		p.sendLocked(pendingLocked(p))
		return
	}
	s.applyLocked(p, p.held)
}

// changesPatient reports whether showing l would change what the window
// shows: another patient or encounter.
func changesPatient(p *page, l launcher.Launch) bool {
	v := p.views[p.next] // the newest view it was sent, else the one it shows
	if v == nil {
		v = p.currentView()
	}
	if v == nil {
		return true
	}
	a, b := v.launch.Req, l.Req
	if (a.Patient == nil) != (b.Patient == nil) || a.EncounterID != b.EncounterID {
		return true
	}
	return a.Patient != nil && a.Patient.ID != b.Patient.ID
}

// event tells the page what waits, and why (recording | note | ask).
func (h *held) event(reason string) event {
	ev := event{Type: "pending", PendingID: h.launch.ID, Patient: h.launch.Req.Patient, Reason: reason}
	if h.replace {
		ev.Clinician = h.launch.Req.Email
	}
	return ev
}

type page struct {
	id string
	// secret is the page's own credential besides its cookie: the page keeps
	// it in sessionStorage, which (unlike a cookie) is scoped to this
	// origin's port, and sends it on every call (pageSecretHeader).
	secret    string
	clinician request.Clinician
	views     map[string]*view
	order     []string // view ids, oldest first
	// current is the view the page has shown (it confirmed, or loaded it);
	// next is a view it was told to show and has not confirmed yet. Records
	// are filed under the view the page names, so until it confirms, its
	// records are current's.
	current    string
	next       string
	replaceURL string // the replacement the page was told to follow
	lastToken  heidiapi.JWT

	recording     bool
	recordingView string // the view the last recording was made in
	awaitingNote  bool   // that recording stopped; its note is not pushed or discarded yet
	held          *held

	subs       map[chan event]struct{}
	connected  time.Time
	lastActive time.Time
	goneTimer  *time.Timer
	endTimer   *time.Timer // ends the session of a window that stays gone
	superseded bool
	settings   bool // a settings page, not a widget page
}

// event is one message on a page's event stream.
type event struct {
	Type string `json:"type"` // hello | heartbeat | show | pending | pending_cleared | replace | superseded | logout
	// RunID: this run of the tray (hello, heartbeat).
	RunID string     `json:"run_id,omitempty"`
	View  *viewEvent `json:"view,omitempty"` // show
	// pending: what is waiting, and why.
	PendingID string           `json:"pending_id,omitempty"`
	Patient   *request.Patient `json:"patient,omitempty"`
	Clinician string           `json:"clinician,omitempty"`
	Reason    string           `json:"reason,omitempty"` // recording | note
	URL       string           `json:"url,omitempty"`    // replace: a path on this origin
}

func (p *page) currentView() *view { return p.views[p.current] }

// addViewLocked makes l a view of p (without showing it).
func (p *page) addViewLocked(l launcher.Launch, seq uint64) *view {
	v := &view{launch: l, heidiSID: l.HeidiSessionID, seq: seq}
	if _, dup := p.views[l.ID]; !dup {
		p.order = append(p.order, l.ID)
	}
	p.views[l.ID] = v
	for len(p.order) > maxViews {
		if id := p.order[0]; id != p.current && id != p.next {
			delete(p.views, id)
		}
		p.order = p.order[1:]
	}
	return v
}

// newestSeqLocked is the order of the newest launch the page shows or was
// told to show.
func (p *page) newestSeq() uint64 {
	n := uint64(0)
	for _, id := range []string{p.current, p.next} {
		if v := p.views[id]; v != nil {
			n = max(n, v.seq)
		}
	}
	return n
}

func (s *Server) newPageLocked(pc *pendingCode) *page {
	l := pc.launch
	p := &page{id: randomID(), secret: randomID(), clinician: l.Req.Clinician, views: map[string]*view{}, subs: map[chan event]struct{}{},
		lastActive: s.opt.Now(), settings: l.ID == settingsLaunch}
	if !p.settings {
		p.addViewLocked(l, pc.seq)
		p.current = l.ID
		// One window follows the EMR: the one with the EMR's newest launch.
		// A link loaded late (a browser that opened two links in the wrong
		// order) does not take over from a window with a newer launch.
		for _, o := range s.pages {
			if o.settings || o.superseded || o.current == "" {
				continue
			}
			if o.newestSeq() > pc.seq {
				p.superseded = true
				if s.backend != nil {
					s.backend.ViewLeft(l.ID, o.current)
				}
				continue
			}
			s.supersedeLocked(o, l.ID)
		}
	}
	s.pages[p.id] = p
	s.trimPagesLocked()
	return p
}

// forgetPageLocked ends a page's launches for their waiters ("" : it
// closed), as when the page is dropped or has been gone too long.
func (s *Server) forgetPageLocked(p *page, by string) {
	s.dropHeldLocked(p, by)
	if s.backend != nil {
		for _, id := range []string{p.next, p.current} {
			if id != "" && id != by {
				s.backend.ViewLeft(id, by)
			}
		}
	}
}

// supersedeLocked tells a window it no longer follows the EMR.
func (s *Server) supersedeLocked(p *page, by string) {
	p.superseded = true
	s.forgetPageLocked(p, by)
	p.sendLocked(event{Type: "superseded"})
}

// dropHeldLocked forgets a held switch that will never apply; its waiters
// learn that the window went on to by ("" : it closed).
func (s *Server) dropHeldLocked(p *page, by string) {
	if p.held != nil && s.backend != nil {
		s.backend.ViewLeft(p.held.launch.ID, by)
	}
	p.held = nil
}

// Present delivers a launch: to the window that follows the EMR (a patient
// switch, or a clean replacement for another clinician, held while a
// recording or its note is outstanding), to a window still loading, or
// through a new one-time URL.
func (s *Server) Present(l launcher.Launch) launcher.Outcome {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	p := s.livePageLocked()
	if p == nil {
		if pc := s.loadingCodeLocked(); pc != nil && l.NewWindow {
			s.dropCodesLocked(pc.launch.ID, l.ID)
		} else if pc != nil {
			if s.backend != nil {
				s.backend.ViewLeft(pc.launch.ID, l.ID)
			}
			pc.launch, pc.seq = l, s.seq // the window that is loading will show this launch
			return launcher.Outcome{Status: "opened"}
		}
		return launcher.Outcome{Status: "opened", URL: s.newCodeLocked(l)}
	}
	h := &held{launch: l, seq: s.seq, replace: p.clinician != l.Req.Clinician}
	h.ask = l.Ask && !h.replace && changesPatient(p, l)
	if h.ask && !p.recording && !p.awaitingNote {
		s.dropHeldLocked(p, l.ID) // a newer question replaces the one waiting
		p.held = h
		p.sendLocked(pendingLocked(p))
		return launcher.Outcome{Status: "confirm"}
	}
	if p.recording || p.awaitingNote {
		s.dropHeldLocked(p, l.ID) // a newer switch replaces the one waiting
		p.held = h
		reason := "note"
		if p.recording {
			reason = "recording"
		}
		p.sendLocked(h.event(reason))
		return launcher.Outcome{Status: "switch_pending"}
	}
	s.applyLocked(p, h)
	if h.replace {
		return launcher.Outcome{Status: "replaced"}
	}
	return launcher.Outcome{Status: "switched"}
}

// applyLocked sends the window to the held launch: one function for every
// path (a direct switch, a held switch after its note, a replacement). A
// switch becomes the page's next view; it is current once the page says it
// shows it (/api/shown), so nothing is filed under it before.
func (s *Server) applyLocked(p *page, h *held) {
	p.held = nil
	if h.replace {
		// Never mix clinicians: the window starts over with a link made
		// now, so it cannot expire while a recording runs.
		s.forgetPageLocked(p, h.launch.ID)
		u := s.newCodeLocked(h.launch)
		s.codes[strings.TrimPrefix(u, s.origin+"/launch?code=")].seq = h.seq
		p.superseded = true // its successor follows the EMR once it loads
		p.replaceURL = strings.TrimPrefix(u, s.origin)
		p.sendLocked(event{Type: "replace", URL: p.replaceURL})
		return
	}
	v := p.addViewLocked(h.launch, h.seq)
	if p.next != "" && p.next != v.launch.ID && s.backend != nil {
		s.backend.ViewLeft(p.next, v.launch.ID) // a newer switch before the page showed the last
	}
	p.next = v.launch.ID
	p.sendLocked(event{Type: "show", View: v.wire()})
}

// confirmLocked: the page shows view id now.
func (s *Server) confirmLocked(p *page, id string) {
	if id == "" || id != p.next {
		return
	}
	old := p.current
	p.current, p.next = id, ""
	if old != "" && old != id && s.backend != nil {
		s.backend.ViewLeft(old, id)
	}
}

// unshowLocked turns a switch the page has not shown yet into a held one:
// the page went on recording (or owes a note) in its current view.
func (s *Server) unshowLocked(p *page, reason string) {
	v := p.views[p.next]
	p.next = ""
	if v == nil {
		return
	}
	p.held = &held{launch: v.launch, seq: v.seq}
	p.sendLocked(p.held.event(reason))
}

// livePageLocked is the window that follows the EMR: the most recently
// connected widget page with an open event stream that was not superseded.
func (s *Server) livePageLocked() *page {
	var best *page
	for _, p := range s.pages {
		if !p.settings && !p.superseded && len(p.subs) > 0 && (best == nil || p.connected.After(best.connected)) {
			best = p
		}
	}
	return best
}

// loadingCodeLocked is a widget page's code issued moments ago and not yet
// redeemed: its window is still loading.
func (s *Server) loadingCodeLocked() *pendingCode {
	now := s.opt.Now()
	var best *pendingCode
	for _, pc := range s.codes {
		if pc.launch.ID != settingsLaunch && now.Before(pc.expires) && now.Sub(pc.issued) < pendingCodeReuse && (best == nil || pc.issued.After(best.issued)) {
			best = pc
		}
	}
	return best
}

// dropCodesLocked invalidates the unredeemed links of a launch; its
// waiters learn that it went to launch by.
func (s *Server) dropCodesLocked(launchID, by string) {
	for c, pc := range s.codes {
		if pc.launch.ID == launchID {
			delete(s.codes, c)
		}
	}
	if s.backend != nil {
		s.backend.ViewLeft(launchID, by)
	}
}

func (s *Server) newCodeLocked(l launcher.Launch) string {
	now := s.opt.Now()
	for c, pc := range s.codes { // expired links (their timers answer their waiters)
		if now.After(pc.expires) {
			delete(s.codes, c)
		}
	}
	code := randomID()
	pc := &pendingCode{launch: l, seq: s.seq, issued: now, expires: now.Add(CodeTTL)}
	s.codes[code] = pc
	// A link nobody used ends its launch's waiters when it expires.
	time.AfterFunc(CodeTTL+time.Second, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.codes[code] == pc {
			delete(s.codes, code)
			if s.backend != nil {
				s.backend.ViewLeft(pc.launch.ID, "")
			}
		}
	})
	return s.origin + "/launch?code=" + code
}

// Logout signs every page out and forgets every session and code.
func (s *Server) Logout() {
	s.closeAll("logout")
	s.notifyRecording()
}

func (s *Server) closeAll(evType string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, p := range s.pages {
		p.sendLocked(event{Type: evType})
		for ch := range p.subs {
			close(ch)
		}
		p.subs = nil
		if p.goneTimer != nil {
			p.goneTimer.Stop()
		}
		s.forgetPageLocked(p, "")
		if p.endTimer != nil {
			p.endTimer.Stop()
		}
		delete(s.pages, id)
	}
	for _, pc := range s.codes {
		if s.backend != nil {
			s.backend.ViewLeft(pc.launch.ID, "")
		}
	}
	clear(s.codes)
	clear(s.confirms)
}

// OpenPages counts widget pages with a live connection.
func (s *Server) OpenPages() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, p := range s.pages {
		if len(p.subs) > 0 {
			n++
		}
	}
	return n
}

func (p *page) sendLocked(ev event) {
	for ch := range p.subs {
		select {
		case ch <- ev:
		default: // a stuck page must not block launches; its heartbeat lapses
		}
	}
}

// Recording reports whether any window records now.
func (s *Server) Recording() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range s.pages {
		if p.recording {
			return true
		}
	}
	return false
}

// windowChanged tells the core the window's state may have changed. Call
// it without s.mu held.
func (s *Server) windowChanged() {
	if s.backend != nil {
		s.backend.WindowChanged()
	}
}

// notifyRecording tells the core that a window's recording state changed;
// it asks Recording for the truth, so calls may arrive in any order. Call
// it without s.mu held.
func (s *Server) notifyRecording() {
	if s.backend != nil {
		s.backend.RecordingChanged()
		s.backend.WindowChanged()
	}
}

// streamClosedLocked starts the clock on a window whose last event stream
// closed: if it does not come back, it is gone and records nothing.
func (s *Server) streamClosedLocked(p *page) {
	if len(p.subs) > 0 || p.goneTimer != nil {
		return
	}
	after := s.opt.GoneAfter
	if after <= 0 {
		after = goneAfter
	}
	p.goneTimer = time.AfterFunc(after, func() {
		s.mu.Lock()
		p.goneTimer = nil
		if len(p.subs) > 0 || p.subs == nil {
			s.mu.Unlock()
			return
		}
		wasRecording := p.recording
		if wasRecording {
			p.recording = false
			s.opt.Log.Info("a window closed during a recording; it no longer counts as recording", "view", p.current)
		}
		if !p.superseded {
			// The window is gone: its launch's waiters end, and it no
			// longer follows the EMR (if it comes back, it says so).
			s.forgetPageLocked(p, "")
			p.superseded = true
		}
		s.endSessionLaterLocked(p)
		s.mu.Unlock()
		if wasRecording {
			s.notifyRecording()
		}
	})
}

// endSessionLaterLocked ends the session of a window that stays gone: its
// cookie and page secret then open nothing, whoever holds them.
func (s *Server) endSessionLaterLocked(p *page) {
	after := s.opt.SessionGoneAfter
	if after <= 0 {
		after = sessionGoneAfter
	}
	p.endTimer = time.AfterFunc(after, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		p.endTimer = nil
		if len(p.subs) == 0 && !p.recording && s.pages[p.id] == p {
			delete(s.pages, p.id)
			s.opt.Log.Info("a window has been gone for a while; its session ended", "view", p.current)
		}
	})
}

// WindowState describes the window that follows the EMR (GET /v1/window).
func (s *Server) WindowState() wire.WindowState {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.livePageLocked()
	if p == nil {
		return wire.WindowState{}
	}
	ws := wire.WindowState{Open: true, Following: true, Clinician: &p.clinician, Recording: p.recording, AwaitingNote: p.awaitingNote}
	if v := p.currentView(); v != nil {
		ws.LaunchID, ws.Patient, ws.EncounterID, ws.HeidiSessionID = v.launch.ID, v.launch.Req.Patient, v.launch.Req.EncounterID, v.heidiSID
	}
	if p.held != nil {
		ws.Pending = &wire.PendingSwitch{LaunchID: p.held.launch.ID, Patient: p.held.launch.Req.Patient, Replace: p.held.replace}
		if p.held.replace {
			ws.Pending.Clinician = &p.held.launch.Req.Clinician
		}
	} else if v := p.views[p.next]; v != nil {
		ws.Pending = &wire.PendingSwitch{LaunchID: v.launch.ID, Patient: v.launch.Req.Patient}
	}
	return ws
}
