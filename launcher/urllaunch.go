package launcher

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/heidi-tray/heidi-tray/keystore"
	"github.com/heidi-tray/heidi-tray/launcher/internal/atomicfile"
	"github.com/heidi-tray/heidi-tray/launcher/request"
	"github.com/heidi-tray/heidi-tray/launcher/urlscheme"
	"github.com/heidi-tray/heidi-tray/launcher/wire"
)

// Binding remembers the clinician this OS user last opened Heidi as, as a
// hash: enough to compare, nothing to read.
type Binding struct{ Path string }

func bindingHash(c request.Clinician) string {
	h := sha256.Sum256([]byte("heidi-tray-binding-v1\x00" + c.Region + "\x00" + c.Email + "\x00" + c.UserID))
	return hex.EncodeToString(h[:])
}

// Is reports whether c is the bound clinician.
func (b Binding) Is(c request.Clinician) bool {
	data, err := os.ReadFile(b.Path)
	return err == nil && strings.TrimSpace(string(data)) == bindingHash(c)
}

// Set binds c.
func (b Binding) Set(c request.Clinician) error {
	if b.Path == "" {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(b.Path), 0o700); err != nil {
		return err
	}
	return atomicfile.WriteFile(b.Path, []byte(bindingHash(c)+"\n"), 0o600)
}

// OpenURL handles a heidi-tray:// URL. Nothing in it is trusted: a signed
// URL must verify; an unsigned one opens straight away only for the bound
// clinician, and otherwise asks the person at the screen first.
func (l *Launcher) OpenURL(ctx context.Context, raw string) (wire.OpenResult, error) {
	if p := l.Policy(); p.Disabled {
		return wire.OpenResult{}, p.disabledErr()
	}
	u, err := urlscheme.Parse(raw, l.d.Settings.Region)
	if err != nil {
		return wire.OpenResult{}, l.refuseURL(err)
	}
	secret, err := l.launchSecret(ctx)
	if err != nil {
		return wire.OpenResult{}, l.classify(request.Clinician{Region: l.d.Settings.Region}, err)
	}
	if secret != nil {
		if err := urlscheme.Verify(u, secret, time.Now(), &l.nonces); err != nil {
			return wire.OpenResult{}, l.refuseURL(err)
		}
	} else if l.Policy().RequireSignedURLs {
		return wire.OpenResult{}, l.refuseURL(errors.New("this workstation accepts only signed heidi-tray:// URLs (require_signed_urls), and no launch secret is set; ask your IT administrator"))
	}
	signed := secret != nil
	if u.Action == "logout" {
		// Any web page can fire an unsigned logout: it must not cut off a
		// recording. The clinician ends it in the window, then signs out.
		if !signed && l.State().Kind == StateRecording {
			return wire.OpenResult{}, l.refuseURL(errors.New("a recording is in progress; an unsigned heidi-tray://logout does not end it. Stop the recording in the Heidi window, then sign out"))
		}
		return wire.OpenResult{Status: "logged_out", Message: "Signed out of Heidi."}, l.Logout(ctx)
	}
	o := u.Open
	if !signed && o.Context != "" {
		// Any web page can write an unsigned URL: it does not get to put
		// words into the clinician's note.
		l.d.Log.Warn("dropped the context of an unsigned URL launch (only signed URLs may carry context)")
		o.Context = ""
	}
	if !request.DomainAllowed(o.Email, l.Policy().AllowedEmailDomains) {
		return wire.OpenResult{}, l.refuseURL(l.domainErr(o.Email))
	}
	if secret != nil {
		return l.Open(ctx, o, true)
	}
	if l.d.Binding.Is(o.Clinician) {
		// The bound clinician, but any web page can write this URL: an open
		// window asks before it changes patient.
		res, _, err := l.launch(ctx, o, true, false, true)
		return res, err
	}
	// Unbound clinician: a page must ask before any token is fetched.
	id := newID()
	confirmURL := l.pages.AskConfirmation(Launch{ID: id, Req: o})
	if err := l.d.Opener.Open(confirmURL); err != nil {
		return wire.OpenResult{}, fail(wire.CodeBrowserFailed, err)
	}
	l.d.Log.Info("URL launch for an unbound clinician: asking for confirmation", "clinician", o.Clinician, "launch_id", id)
	return wire.OpenResult{Status: "confirm", Message: "Confirm in the browser that Heidi should open for this clinician.", LaunchID: id}, nil
}

func (l *Launcher) launchSecret(ctx context.Context) ([]byte, error) {
	s, err := l.d.Keys.LaunchSecret(ctx)
	if errors.Is(err, keystore.ErrNotFound) {
		return nil, nil
	}
	return s.Reveal(), err
}

func (l *Launcher) domainErr(email string) error {
	return fmt.Errorf("%s is not in an allowed email domain (%s); ask your IT administrator", request.MaskEmail(email), strings.Join(l.Policy().AllowedEmailDomains, ", "))
}

// refuseURL reports a refused URL to the clinician and the caller.
func (l *Launcher) refuseURL(err error) error {
	l.d.Log.Warn("URL launch refused", "err", err)
	if l.d.Notify != nil {
		l.d.Notify("Heidi launch refused", err.Error())
	}
	return fail(wire.CodeURLRefused, err)
}

// ConfirmLaunch runs a launch the person at the screen confirmed: it binds
// the clinician and launches without opening another window (the
// confirmation page navigates itself).
func (l *Launcher) ConfirmLaunch(ctx context.Context, wl Launch) (Outcome, error) {
	l.bind(wl.Req.Clinician)
	_, out, err := l.launch(ctx, wl.Req, false, false, false)
	return out, err
}
