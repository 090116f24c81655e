package launcher

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/heidi-tray/heidi-tray/launcher/request"
	"github.com/heidi-tray/heidi-tray/launcher/wire"
)

// Policy is what an administrator can change under a running tray: the
// kill switch and the allowed email domains. Every channel's next request
// sees a change (launches, URL launches, the page's token calls).
type Policy struct {
	Disabled            bool
	DisabledBy          string // where the kill switch was set, e.g. "policy HKLM\…"
	AllowedEmailDomains []string
	RequireSignedURLs   bool // refuse every unsigned heidi-tray:// URL
}

const stateDisabled = "Turned off by your administrator"

func (p Policy) disabledErr() error {
	where := ""
	if p.DisabledBy != "" {
		where = " (setting disabled, from " + p.DisabledBy + ")"
	}
	return fail(wire.CodeDisabled, errors.New("heidi-tray is turned off on this workstation"+where+"; ask your IT administrator"))
}

// Policy is the policy in force.
func (l *Launcher) Policy() Policy {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.policy
}

// refusedByPolicy: the page's token calls stop when the tray is turned
// off or the clinician's domain is no longer allowed.
func (l *Launcher) refusedByPolicy(c request.Clinician) error {
	p := l.Policy()
	if p.Disabled {
		return p.disabledErr()
	}
	if !request.DomainAllowed(c.Email, p.AllowedEmailDomains) {
		return fail(wire.CodeDomainNotAllowed, l.domainErr(c.Email))
	}
	return nil
}

// ApplyPolicy puts a changed policy in force at once. Turning heidi-tray
// off signs every window out and forgets every token; turning it back on
// re-checks the set-up. Each change is logged and shown in the tray.
func (l *Launcher) ApplyPolicy(p Policy) {
	p.AllowedEmailDomains = slices.Clone(p.AllowedEmailDomains)
	l.mu.Lock()
	old := l.policy
	l.policy = p
	l.mu.Unlock()
	if !slices.Equal(old.AllowedEmailDomains, p.AllowedEmailDomains) {
		l.d.Log.Warn("policy changed: allowed email domains", "allowed_email_domains", strings.Join(p.AllowedEmailDomains, ","), "was", strings.Join(old.AllowedEmailDomains, ","))
		if len(p.AllowedEmailDomains) > 0 {
			l.cache.Clear() // tokens of clinicians now refused must not be handed out
		}
	}
	switch {
	case p.Disabled && !old.Disabled:
		l.d.Log.Warn("policy changed: heidi-tray is turned off; launches are refused and every window is signed out", "from", p.DisabledBy)
		if l.pages != nil {
			l.pages.Logout()
		}
		l.cache.Clear()
		l.publishState() // State() shows it while the policy holds
		if l.d.Notify != nil {
			l.d.Notify("heidi-tray is turned off", "Your IT administrator turned heidi-tray off on this workstation.")
		}
	case !p.Disabled && old.Disabled:
		l.d.Log.Warn("policy changed: heidi-tray is turned back on")
		l.CheckSetup(context.Background())
	}
}
