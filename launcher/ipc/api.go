// Package ipc is heidi-tray's local API, the one EMR vendors integrate
// against: HTTP/1.1 with JSON over a per-user endpoint (a Unix socket on Linux
// and macOS, a named pipe on Windows). Only processes of the same OS user get
// in; browsers never can (requests carrying Origin or Referer are refused).
//
// See docs/ipc.md for the contract.
package ipc

import (
	"github.com/heidi-tray/heidi-tray/launcher/request"
)

// OpenResult is the answer to POST /v1/open.
type OpenResult struct {
	// Status: opened (a page was opened), switched (the open page now shows
	// this patient), switch_pending (a recording is running; the page will
	// switch when it stops), replaced (the open page now belongs to this
	// clinician), confirm (the clinician must confirm in the browser first).
	Status   string `json:"status"`
	Message  string `json:"message"`
	LaunchID string `json:"launch_id"`
}

// Note is what the clinician pushed from Heidi back to the EMR.
type Note struct {
	ID          string            `json:"id"`
	LaunchID    string            `json:"launch_id,omitempty"`
	Kind        string            `json:"kind"` // data | document
	Time        string            `json:"time"`
	Clinician   request.Clinician `json:"clinician"`
	PatientID   string            `json:"patient_id,omitempty"`
	EncounterID string            `json:"encounter_id,omitempty"`
	SessionID   string            `json:"session_id,omitempty"`
	Text        string            `json:"text"`
	Payload     any               `json:"payload"`
	File        string            `json:"file"`
}

// Event is one item of GET /v1/events.
type Event struct {
	Type string `json:"type"` // note | state
	Note *Note  `json:"note,omitempty"`
	// State carries tray state changes (e.g. recording).
	State string `json:"state,omitempty"`
}

// Status is the answer to GET /v1/status.
type Status struct {
	Version     string   `json:"version"`
	PID         int      `json:"pid"`
	Sandbox     bool     `json:"sandbox"`
	State       string   `json:"state"`   // ready | needs_setup | unreachable | error | recording
	Message     string   `json:"message"` // the tray's status line
	Region      string   `json:"region"`
	Environment string   `json:"environment"`
	KeyRegions  []string `json:"key_regions"`
	PageURL     string   `json:"page_url"`
	OpenPages   int      `json:"open_pages"`
	Tokens      int      `json:"cached_tokens"`
	Endpoint    string   `json:"endpoint"`
}

// ErrorBody is every error answer: {"error": {"code", "message"}}.
type ErrorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}
