package webui

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/heidi-tray/heidi-tray/launcher"
)

// ConfirmTTL is how long a confirmation page can be answered.
const ConfirmTTL = 2 * time.Minute

// AskConfirmation parks a URL launch for an unbound clinician and returns
// the confirmation page's URL. Nothing is fetched until the person clicks.
func (s *Server) AskConfirmation(l launcher.Launch) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.opt.Now()
	for c, pc := range s.confirms {
		if now.After(pc.expires) {
			delete(s.confirms, c)
		}
	}
	code := randomID()
	s.confirms[code] = &pendingCode{launch: l, expires: now.Add(ConfirmTTL)}
	return s.origin + "/confirm?code=" + code
}

// confirmPage only shows the question: answering it is a same-origin POST.
func (s *Server) confirmPage(w http.ResponseWriter, r *http.Request) {
	code := r.URL.Query().Get("code")
	s.mu.Lock()
	pc := s.confirms[code]
	s.mu.Unlock()
	if pc == nil || s.opt.Now().After(pc.expires) {
		s.errorPage(w, http.StatusForbidden, "This request has expired", "Open Heidi again from your EMR.")
		return
	}
	req := pc.launch.Req
	who := fmt.Sprintf("%s (EMR user %s)", req.Email, req.UserID)
	patient := ""
	if req.Patient != nil {
		patient = fmt.Sprintf(`<p>Patient: <strong>%s</strong>%s</p>`, htmlEscape(req.Patient.Name), dobText(req.Patient.DOB))
	}
	sandbox := ""
	if s.opt.Sandbox {
		sandbox = `<span class="badge">SANDBOX</span>`
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	fmt.Fprintf(w, `<!doctype html><html lang="en"><meta charset="utf-8"><meta name="referrer" content="no-referrer"><title>Open Heidi?</title>
<link rel="stylesheet" href="/assets/web/page.css"><script src="/assets/web/confirm.js" defer></script>
<section class="state confirm">%s<h1>Open Heidi as this clinician?</h1>
<p id="question">The EMR asks to open Heidi as <strong>%s</strong> (region %s). Continue?</p>%s
<p class="hint">If you did not just open Heidi from your EMR, choose Cancel: a web page may be trying to open Heidi in someone else's name.</p>
<p><button id="continue" type="button">Continue</button> <button id="cancel" type="button">Cancel</button></p>
<p id="result" role="status"></p></section></html>`, sandbox, htmlEscape(who), htmlEscape(req.Region), patient)
}

func dobText(dob string) string {
	if dob == "" {
		return ""
	}
	return " · DOB " + htmlEscape(dob)
}

func (s *Server) apiConfirm(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Code     string `json:"code"`
		Continue bool   `json:"continue"`
	}
	if !decode(w, r, 1024, &in) {
		return
	}
	s.mu.Lock()
	pc := s.confirms[in.Code]
	delete(s.confirms, in.Code) // one answer per question
	s.mu.Unlock()
	if pc == nil || s.opt.Now().After(pc.expires) {
		apiErr(w, http.StatusForbidden, "expired", "this request has expired; open Heidi again from your EMR")
		return
	}
	if !in.Continue {
		s.opt.Log.Info("URL launch cancelled at the confirmation page", "launch_id", pc.launch.ID)
		writeJSON(w, http.StatusOK, map[string]string{"message": "Cancelled. Heidi was not opened."})
		return
	}
	out, err := s.backend.ConfirmLaunch(r.Context(), pc.launch)
	if err != nil {
		apiErr(w, http.StatusBadGateway, "launch_failed", err.Error())
		return
	}
	if out.URL != "" {
		writeJSON(w, http.StatusOK, map[string]string{"redirect": strings.TrimPrefix(out.URL, s.origin)})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"message": "Done: the open Heidi window shows this clinician's patient. You can close this tab."})
}
