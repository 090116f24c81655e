// Package wire holds the JSON shapes of heidi-tray's local API (docs/ipc.md):
// the server (launcher/ipc), its client and the core all speak them, so a
// change to the API's JSON is made here and nowhere else.
package wire

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

// Note is what the clinician pushed from Heidi back to the EMR. It is filed
// under the launch (view) the window showed when the note was pushed, which
// is the launch its recording was made in (docs/clinical-safety.md): the
// patient, encounter and Heidi session are that launch's, and the patient's
// name and date of birth are as the window showed them, for the EMR to
// cross-check before filing.
type Note struct {
	ID string `json:"id"`
	// Seq orders the feed: it only grows (GET /v1/notes?after=SEQ).
	Seq uint64 `json:"seq"`
	// ContentKey is the same for a re-push of the same content from the
	// same launch, which is recognised and not saved twice.
	ContentKey  string            `json:"content_key"`
	LaunchID    string            `json:"launch_id"`
	Kind        string            `json:"kind"` // data | document
	Time        string            `json:"time"`
	Clinician   request.Clinician `json:"clinician"`
	PatientID   string            `json:"patient_id"` // "" when the launch had no patient
	PatientName string            `json:"patient_name,omitempty"`
	PatientDOB  string            `json:"patient_dob,omitempty"`
	EncounterID string            `json:"encounter_id,omitempty"`
	SessionID   string            `json:"session_id,omitempty"` // the launch's Heidi session, if one started
	// Warning is set when what Heidi sent disagrees with the launch (another
	// session or patient id in the payload): check before filing.
	Warning string `json:"warning,omitempty"`
	Text    string `json:"text"`
	Payload any    `json:"payload"`
	File    string `json:"file"`
}

// NotesPage is the answer to GET /v1/notes.
type NotesPage struct {
	Notes   []Note `json:"notes"`    // unacknowledged, oldest first
	LastSeq uint64 `json:"last_seq"` // the feed's last sequence number
}

// WaitedNote is the answer to POST /v1/open?wait=note: the note, with what
// the open itself did.
type WaitedNote struct {
	Note
	Open OpenResult `json:"open"`
}

// MaxWaitSeconds bounds ?wait=note&timeout=SECONDS.
const MaxWaitSeconds = 24 * 60 * 60

// Event is one item of GET /v1/events.
type Event struct {
	Type string `json:"type"` // note | state
	Note *Note  `json:"note,omitempty"`
	// State carries tray state changes (e.g. recording).
	State StateKind `json:"state,omitempty"`
	// Window carries changes of the window that follows the EMR.
	Window *WindowState `json:"window,omitempty"`
	// Clinician: token_needed names whose token the tray needs (token_source emr).
	Clinician *request.Clinician `json:"clinician,omitempty"`
	// LastSeq: heartbeat, the feed's last note; dropped, the last note
	// this stream delivered (reconnect with ?after= it).
	LastSeq uint64 `json:"last_seq,omitempty"`
	Message string `json:"message,omitempty"`
}

// APIVersion is the local API's version (docs/ipc.md, "Versions"). It
// changes only for a change an existing client could trip over; additions
// are announced in Capabilities instead.
const APIVersion = 1

// Capabilities this tray's local API has (Status.Capabilities).
var Capabilities = []string{
	"open", "open.wait_note", "open.wait_timeout", "url", "window", "events", "events.replay", "events.heartbeat",
	"notes", "notes.ack", "notes.claim", "logout", "setup", "quit", "token",
}

// Status is the answer to GET /v1/status.
type Status struct {
	APIVersion   int       `json:"api_version"`
	Capabilities []string  `json:"capabilities"`
	Version      string    `json:"version"`
	PID          int       `json:"pid"`
	Sandbox      bool      `json:"sandbox"`
	State        StateKind `json:"state"`
	Message      string    `json:"message"` // the tray's status line
	Region       string    `json:"region"`
	Environment  string    `json:"environment"`
	KeyRegions   []string  `json:"key_regions"`
	TokenSource  string    `json:"token_source"` // keychain | emr | service
	PageURL      string    `json:"page_url"`
	OpenPages    int       `json:"open_pages"`
	Tokens       int       `json:"cached_tokens"`
	Endpoint     string    `json:"endpoint"`
}

// ErrorBody is every error answer: {"error": {"code", "message"}}.
type ErrorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// Error codes: ErrorBody.Error.Code is one of these. A client retries only
// the codes Retryable names; the others need a person or a fixed request.
const (
	CodeInvalidRequest      = "invalid_request"      // a field is wrong; the message names it
	CodeBadJSON             = "bad_json"             // the body is not the expected JSON
	CodeBadContentType      = "bad_content_type"     // POST bodies are application/json
	CodeTooLarge            = "too_large"            // the body is over the limit
	CodeNotFound            = "not_found"            // no such path
	CodeMethodNotAllowed    = "method_not_allowed"   // the path exists with another method
	CodeBrowserRefused      = "browser_refused"      // the request came from a web page
	CodeForbiddenPeer       = "forbidden_peer"       // another OS user's process
	CodeUntrusted           = "untrusted"            // the channel may not open Heidi directly
	CodeDomainNotAllowed    = "domain_not_allowed"   // allowed_email_domains refuses the email
	CodeURLRefused          = "url_refused"          // a heidi-tray:// URL failed its checks
	CodeDisabled            = "disabled"             // the administrator turned heidi-tray off
	CodeKeyMissing          = "key_missing"          // no API key for the region
	CodeKeychainUnavailable = "keychain_unavailable" // the OS keychain cannot be reached
	CodeKeyRejected         = "key_rejected"         // Heidi refused the API key
	CodeHeidiRefused        = "heidi_refused"        // Heidi refused the request (e.g. the email)
	CodeRateLimited         = "rate_limited"         // Heidi asks to slow down
	CodeHeidiUnavailable    = "heidi_unavailable"    // Heidi could not be reached
	CodeHeidiBadResponse    = "heidi_bad_response"   // Heidi answered something unexpected
	CodeTimeout             = "timeout"              // the request ran out of time
	CodeBrowserFailed       = "browser_failed"       // the browser could not be started
	CodeTokenRefused        = "token_refused"        // the EMR's token is not the clinician's, or the token service refused
	CodeTokenUnavailable    = "token_unavailable"    // no token yet: the token service or the EMR did not answer
	CodeShuttingDown        = "shutting_down"        // the tray is stopping
	CodeSuperseded          = "superseded"           // the window moved to another launch before a note was pushed
	CodeClaimed             = "claimed"              // another EMR process holds the note's claim
	CodeInternal            = "internal"             // a bug: the message and the log say more
)

// Codes lists every error code, in the order docs/ipc.md's table does.
var Codes = []string{
	CodeInvalidRequest, CodeBadJSON, CodeTooLarge, CodeBadContentType, CodeNotFound, CodeMethodNotAllowed,
	CodeBrowserRefused, CodeForbiddenPeer, CodeUntrusted, CodeDomainNotAllowed, CodeURLRefused, CodeDisabled,
	CodeKeyMissing, CodeKeychainUnavailable, CodeKeyRejected, CodeHeidiRefused, CodeRateLimited, CodeHeidiUnavailable,
	CodeHeidiBadResponse, CodeTokenRefused, CodeTokenUnavailable, CodeTimeout, CodeBrowserFailed, CodeSuperseded, CodeClaimed, CodeShuttingDown, CodeInternal,
}

// Retryable reports whether the same request may succeed if sent again
// later without any change (after a back-off).
func Retryable(code string) bool {
	switch code {
	case CodeRateLimited, CodeHeidiUnavailable, CodeHeidiBadResponse, CodeTimeout, CodeShuttingDown, CodeKeychainUnavailable, CodeTokenUnavailable:
		return true
	}
	return false
}

// StateKind is the tray's state: Status.State, state events, the tray icon.
type StateKind string

const (
	StateReady       StateKind = "ready"
	StateNeedsSetup  StateKind = "needs_setup"
	StateUnreachable StateKind = "unreachable"
	StateError       StateKind = "error"
	StateRecording   StateKind = "recording"
)

// StateKinds lists every state (the tray draws an icon for each).
var StateKinds = []StateKind{StateReady, StateNeedsSetup, StateUnreachable, StateError, StateRecording}

// OpenResult.Status values.
const (
	StatusOpened        = "opened"         // a page was opened
	StatusSwitched      = "switched"       // the open page now shows this patient
	StatusSwitchPending = "switch_pending" // a recording runs; the page switches when it stops
	StatusReplaced      = "replaced"       // the open page now belongs to this clinician
	StatusConfirm       = "confirm"        // the person at the screen must confirm first
	StatusLoggedOut     = "logged_out"     // a logout URL signed every window out
)

// WindowState is the answer to GET /v1/window and the "window" event: the
// Heidi window that follows the EMR, if any.
type WindowState struct {
	Open           bool               `json:"open"`      // a window follows the EMR
	Following      bool               `json:"following"` // (a superseded or disconnected window does not)
	LaunchID       string             `json:"launch_id,omitempty"`
	Clinician      *request.Clinician `json:"clinician,omitempty"`
	Patient        *request.Patient   `json:"patient"` // null: no patient
	EncounterID    string             `json:"encounter_id,omitempty"`
	HeidiSessionID string             `json:"heidi_session_id,omitempty"`
	Recording      bool               `json:"recording"`
	// AwaitingNote: a recording stopped and its note was neither pushed nor
	// discarded; a switch waits for it.
	AwaitingNote bool           `json:"awaiting_note"`
	Pending      *PendingSwitch `json:"pending"` // null: nothing waiting
}

// PendingSwitch is a launch waiting for the recording (or its note).
type PendingSwitch struct {
	LaunchID  string             `json:"launch_id"`
	Patient   *request.Patient   `json:"patient"`
	Replace   bool               `json:"replace"` // another clinician
	Clinician *request.Clinician `json:"clinician,omitempty"`
}
