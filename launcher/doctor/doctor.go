// Package doctor checks a workstation end to end and explains every failure
// with its fix: what clinic IT runs first when Heidi does not open.
package doctor

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/heidi-tray/heidi-tray/keystore"
	"github.com/heidi-tray/heidi-tray/launcher/config"
	"github.com/heidi-tray/heidi-tray/launcher/heidiapi"
	"github.com/heidi-tray/heidi-tray/launcher/tokensource"
)

// Status of a check.
const (
	OK   = "ok"
	Warn = "warn"
	Fail = "fail"
	Skip = "skip"
)

// Check is one line of the report.
type Check struct {
	Name   string `json:"name"`
	Status string `json:"status"`
	Detail string `json:"detail"`
	Fix    string `json:"fix,omitempty"`
}

// Env is what the checks look at; the CLI fills it in.
type Env struct {
	Config     *config.Config
	ConfigErr  error
	Keys       *keystore.Store
	HTTP       *http.Client
	Online     bool // make a real JWT request for a test identity
	TrayStatus func(ctx context.Context) (running bool, pageURL string, err error)
	TrayHost   func() string // "" when a tray host is present, else why not
	Scheme     func() bool   // the URL scheme is registered
	Autostart  func() bool   // start at login is set up
	PortFree   func(port int) error
	Now        func() time.Time
}

// Run performs every check, in the order a person would fix them.
func Run(ctx context.Context, e Env) []Check {
	var out []Check
	add := func(c Check) { out = append(out, c) }
	if e.ConfigErr != nil {
		add(Check{"settings", Fail, e.ConfigErr.Error(), "correct the setting named above"})
		return out
	}
	s := e.Config.Settings
	if len(e.Config.Warnings) == 0 {
		add(Check{"settings", OK, fmt.Sprintf("region %s, environment %s (from %s)", s.Region, s.Environment, e.Config.File), ""})
	}
	for _, w := range e.Config.Warnings {
		add(Check{"settings", Warn, w, "correct or remove the setting named above; until then heidi-tray uses the value shown by 'heidi-tray config'"})
	}

	// Where tokens come from (docs/token-service.md).
	keyless := s.TokenSource == "emr" || s.TokenSource == "service"
	switch s.TokenSource {
	case "emr":
		how := "the EMR passes each clinician's token (and answers token_needed)"
		if s.TokenCommand != "" {
			how = "the EMR passes each clinician's token; fresh ones from " + s.TokenCommand
		}
		add(Check{"token source", OK, "emr: " + how + "; no API key on this machine", ""})
	case "service":
		if len(s.TokenServiceURLs) == 0 {
			add(Check{"token source", Fail, "service, but token_service_urls is empty", "ask clinic IT to set token_service_urls by policy"})
		} else {
			add(Check{"token source", OK, "service: " + strings.Join(s.TokenServiceURLs, ", ") + "; no API key on this machine", ""})
			out = append(out, tokenService(ctx, s)...)
		}
	default:
		add(Check{"token source", OK, "keychain: the API key is in this machine's keychain", ""})
	}

	// Keychain and key.
	var key keystore.APIKey
	if err := e.Keys.Probe(ctx); err != nil {
		add(Check{"keychain", Fail, err.Error(), keychainFix()})
		add(Check{"api key", Skip, "the keychain is not available", ""})
	} else {
		add(Check{"keychain", OK, "reachable", ""})
		if keyless {
			add(Check{"api key", Skip, "token_source " + s.TokenSource + ": no key is read on this machine", ""})
		} else if k, err := e.Keys.APIKey(ctx, s.Region); err != nil {
			add(Check{"api key", Fail, fmt.Sprintf("no usable key for region %s: %v", s.Region, errors.Unwrap(err)), fmt.Sprintf("heidi-tray key set --region %s (or Set up… in the tray menu)", s.Region)})
		} else {
			key = k
			add(Check{"api key", OK, fmt.Sprintf("region %s: %s", s.Region, k.Masked()), ""})
		}
	}

	// Network path to Heidi, and the clock.
	base, err := heidiapi.BaseURL(s.Environment, s.Region, s.APIBase)
	if err != nil {
		add(Check{"heidi endpoint", Fail, err.Error(), "correct api_base or environment"})
	} else {
		out = append(out, network(ctx, e, base)...)
	}

	if e.Online {
		switch {
		case keyless:
			add(Check{"jwt request", Skip, "token_source " + s.TokenSource + ": no key to test here", ""})
		case key.IsZero():
			add(Check{"jwt request", Skip, "no API key to test", ""})
		default:
			c := &heidiapi.Client{HTTP: e.HTTP, Base: func(string) (string, error) { return base, nil }, Attempts: 1}
			_, err := c.FetchJWT(ctx, s.Region, key, heidiapi.TestEmail, "heidi-tray-doctor")
			switch {
			case err == nil:
				add(Check{"jwt request", OK, fmt.Sprintf("Heidi issued a token for %s in region %s", heidiapi.TestEmail, s.Region), ""})
			case heidiapi.IsKind(err, heidiapi.KeyRejected):
				add(Check{"jwt request", Fail, err.Error(), fmt.Sprintf("check the key is region %s's and set it again: heidi-tray key set --region %s", s.Region, s.Region)})
			default:
				add(Check{"jwt request", Fail, err.Error(), "see the network checks above"})
			}
		}
	} else {
		add(Check{"jwt request", Skip, "not tested; add --online to request a token for " + heidiapi.TestEmail, ""})
	}

	// This user's tray.
	running, pageURL, err := e.TrayStatus(ctx)
	switch {
	case err != nil:
		add(Check{"tray", Fail, err.Error(), "stop stray heidi-tray processes and start it again"})
	case running:
		add(Check{"tray", OK, "running; page server " + pageURL, ""})
	default:
		add(Check{"tray", Warn, "not running (the first launch from the EMR starts it)", "heidi-tray run, or heidi-tray install to start it at login"})
	}
	if why := e.TrayHost(); why != "" {
		add(Check{"tray icon", Warn, why, "launches still work; for the icon use a desktop with a system tray (StatusNotifierItem)"})
	} else {
		add(Check{"tray icon", OK, "a system tray is available", ""})
	}
	if !running {
		if err := e.PortFree(s.Port); err != nil {
			add(Check{"page port", Fail, err.Error(), "free the port or change the port setting (0 picks a free one)"})
		} else {
			add(Check{"page port", OK, "available", ""})
		}
	}
	if e.Scheme() {
		add(Check{"url scheme", OK, "heidi-tray:// opens heidi-tray", ""})
	} else {
		add(Check{"url scheme", Warn, "heidi-tray:// is not registered for this user", "heidi-tray install"})
	}
	if e.Autostart() {
		add(Check{"start at login", OK, "enabled", ""})
	} else {
		add(Check{"start at login", Warn, "not enabled", "heidi-tray install"})
	}
	return out
}

// Failed reports whether any check failed.
func Failed(cs []Check) bool {
	for _, c := range cs {
		if c.Status == Fail {
			return true
		}
	}
	return false
}

// network checks DNS, TCP, TLS and HTTP to Heidi's base URL, names the
// proxy in use, and compares clocks with the server's Date.
func network(ctx context.Context, e Env, base string) []Check {
	u, _ := url.Parse(base)
	var out []Check
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+heidiapi.JWTPath, nil)
	proxy := "none (direct)"
	if tr, ok := e.HTTP.Transport.(*http.Transport); ok && tr.Proxy != nil {
		if p, err := tr.Proxy(req); err == nil && p != nil {
			proxy = p.Redacted()
		}
	}
	out = append(out, Check{"proxy", OK, proxy, ""})
	host := u.Hostname()
	if net.ParseIP(host) == nil && proxy == "none (direct)" {
		rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		addrs, err := net.DefaultResolver.LookupHost(rctx, host)
		cancel()
		if err != nil {
			return append(out, Check{"dns", Fail, fmt.Sprintf("cannot resolve %s: %v", host, err), "check the network and DNS settings, or the proxy (HTTPS_PROXY)"})
		}
		out = append(out, Check{"dns", OK, fmt.Sprintf("%s → %s", host, addrs[0]), ""})
	}
	start := time.Now()
	hctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	resp, err := e.HTTP.Do(req.WithContext(hctx))
	if err != nil {
		var te *tls.CertificateVerificationError
		fix := "check the network, firewall and proxy (HTTPS_PROXY); Heidi must be reachable from this workstation"
		if errors.As(err, &te) {
			fix = "the TLS certificate is not trusted: install the clinic's inspection root in the system store"
		}
		return append(out, Check{"heidi reachable", Fail, fmt.Sprintf("%s: %v", u.Host, unwrapURL(err)), fix})
	}
	resp.Body.Close()
	// Any HTTP answer (401 without a key) proves DNS, TCP, TLS and HTTP work.
	out = append(out, Check{"heidi reachable", OK, fmt.Sprintf("%s answered HTTP %d in %s", u.Host, resp.StatusCode, time.Since(start).Round(time.Millisecond)), ""})
	if d, err := http.ParseTime(resp.Header.Get("Date")); err == nil {
		skew := e.Now().Sub(d)
		if skew.Abs() > 2*time.Minute {
			out = append(out, Check{"clock", Warn, fmt.Sprintf("this computer's clock is %s %s Heidi's", skew.Abs().Round(time.Second), aheadBehind(skew)), "turn on automatic time sync (signed launch URLs allow ±120 s)"})
		} else {
			out = append(out, Check{"clock", OK, fmt.Sprintf("within %s of Heidi's", skew.Abs().Round(time.Second)+time.Second), ""})
		}
	}
	return out
}

func aheadBehind(d time.Duration) string {
	if d > 0 {
		return "ahead of"
	}
	return "behind"
}

func unwrapURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// tokenService checks that each clinic token service answers and that this
// user can sign in to it (a Kerberos ticket for its principal).
func tokenService(ctx context.Context, s config.Settings) []Check {
	var out []Check
	hc, err := tokensource.NewHTTPClient(s.TokenServiceCA)
	if err != nil {
		return []Check{{"token service", Fail, err.Error(), "correct token_service_ca"}}
	}
	hc.Timeout = 5 * time.Second
	for _, u := range s.TokenServiceURLs {
		resp, err := hc.Get(strings.TrimRight(u, "/") + "/healthz")
		if err != nil {
			out = append(out, Check{"token service", Fail, fmt.Sprintf("%s: %v", u, unwrapURL(err)), "check the network, the URL and the service's certificate (token_service_ca)"})
			continue
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			out = append(out, Check{"token service", Fail, fmt.Sprintf("%s answered HTTP %d", u, resp.StatusCode), "ask clinic IT: the service holds no usable key"})
			continue
		}
		out = append(out, Check{"token service", OK, u + " answers", ""})
	}
	spn := s.TokenServiceSPN
	if spn == "" {
		if p, err := url.Parse(s.TokenServiceURLs[0]); err == nil {
			spn = "HTTP/" + strings.ToLower(p.Hostname())
		}
	}
	if _, err := tokensource.SystemNegotiator().Negotiate(spn); err != nil {
		out = append(out, Check{"sign-in", Fail, err.Error(), "sign in to the clinic's domain (or run kinit), and ask clinic IT to check the SPN " + spn})
	} else {
		out = append(out, Check{"sign-in", OK, "a Kerberos ticket for " + spn, ""})
	}
	return out
}
