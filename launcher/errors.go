package launcher

import (
	"context"
	"errors"
	"fmt"

	"github.com/heidi-tray/heidi-tray/keystore"
	"github.com/heidi-tray/heidi-tray/launcher/heidiapi"
	"github.com/heidi-tray/heidi-tray/launcher/request"
	"github.com/heidi-tray/heidi-tray/launcher/wire"
)

// Error is a launch failure of a known kind; Code is one of the wire.Code
// constants. Each front end maps it to its own wire (ipc: HTTP statuses).
type Error struct {
	code string
	Err  error
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// Code is the wire code (wire.Code…).
func (e *Error) Code() string { return e.code }

func fail(code string, err error) error { return &Error{code: code, Err: err} }

// ErrorCode is err's wire code: wire.CodeInternal for an error of no kind.
func ErrorCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.code
	}
	return wire.CodeInternal
}

// classify maps a token failure to an error kind and a tray state.
func (l *Launcher) classify(c request.Clinician, err error) error {
	var he *heidiapi.Error
	var ue *keystore.UnavailableError
	var le *Error
	switch {
	case errors.As(err, &le): // already classified (token sources)
		return err
	case errors.Is(err, keystore.ErrNotFound):
		l.setState(StateNeedsSetup, fmt.Sprintf("API key missing for %s", c.Region))
		return fail(wire.CodeKeyMissing, err)
	case errors.As(err, &ue):
		l.setState(StateError, "Keychain unavailable")
		return fail(wire.CodeKeychainUnavailable, err)
	case errors.As(err, &he):
		switch he.Kind {
		case heidiapi.KeyRejected:
			l.setState(StateError, fmt.Sprintf("API key rejected for %s", c.Region))
			if l.d.Notify != nil {
				l.d.Notify("Heidi rejected the API key", err.Error())
			}
			return fail(wire.CodeKeyRejected, err)
		case heidiapi.BadRequest:
			return fail(wire.CodeHeidiRefused, err)
		case heidiapi.RateLimited:
			return fail(wire.CodeRateLimited, err)
		case heidiapi.Unavailable:
			l.setState(StateUnreachable, "Heidi unreachable")
			return fail(wire.CodeHeidiUnavailable, err)
		}
		return fail(wire.CodeHeidiBadResponse, err)
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return fail(wire.CodeTimeout, errors.New("timed out waiting for Heidi; try again"))
	}
	return fail(wire.CodeInternal, err)
}
