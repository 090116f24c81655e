package webui

import (
	"mime"
	"net/http"
	"net/url"
	"strings"
)

// guard applies the local-web defences to every request:
//   - Host must be 127.0.0.1:PORT or localhost:PORT (DNS rebinding), and the
//     request line a path;
//   - every response forbids caching, referrers and framing, with a CSP;
//   - POSTs must come from this origin (Origin, Sec-Fetch-Site) with a JSON
//     body, which a cross-site form cannot send without a preflight;
//   - GET does nothing but read, except redeeming a launch code (the one
//     cross-site navigation allowed: the browser comes from a file:// page).
func (s *Server) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Cache-Control", "no-store")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Content-Security-Policy", s.csp)
		// An absolute request line (GET http://127.0.0.1:PORT/ …) would set
		// r.Host from itself and skip the Host header's check.
		if !strings.HasPrefix(r.RequestURI, "/") || !s.hosts[r.Host] {
			http.Error(w, "heidi-tray answers only to 127.0.0.1 and localhost", http.StatusMisdirectedRequest)
			return
		}
		switch site := r.Header.Get("Sec-Fetch-Site"); site {
		case "", "same-origin", "none":
		default:
			if r.Method != http.MethodGet || !(strings.HasPrefix(r.URL.Path, "/assets/") || launchNavigation(r)) {
				http.Error(w, "cross-site requests are refused", http.StatusForbidden)
				return
			}
		}
		if r.Method == http.MethodPost {
			if o := r.Header.Get("Origin"); !s.sameOrigin(o) {
				http.Error(w, "requests from other origins are refused", http.StatusForbidden)
				return
			}
			if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
				http.Error(w, "send JSON", http.StatusUnsupportedMediaType)
				return
			}
		} else if r.Method != http.MethodGet && r.Method != http.MethodHead {
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// launchNavigation: the browser arrives at /launch (or a new clinician's
// /confirm) from the private redirect file, a file:// page, so as a
// cross-site top-level navigation. The one-time code in it is the
// credential; a page elsewhere has none.
func launchNavigation(r *http.Request) bool {
	return (r.URL.Path == "/launch" || r.URL.Path == "/confirm") && r.Header.Get("Sec-Fetch-Mode") == "navigate" && r.Header.Get("Sec-Fetch-Dest") == "document"
}

func (s *Server) sameOrigin(o string) bool {
	if o == "" {
		return false
	}
	u, err := url.Parse(o)
	return err == nil && u.Scheme == "http" && s.hosts[u.Host] && u.Path == ""
}

// contentSecurityPolicy allows only this origin and the widget script's
// origin (and Heidi's own hosts, which the widget's iframe loads from).
func contentSecurityPolicy(widgetScript string) string {
	extra := ""
	if u, err := url.Parse(widgetScript); err == nil && u.Scheme != "" && u.Host != "" {
		extra = " " + u.Scheme + "://" + u.Host
	}
	heidi := " https://*.heidihealth.com"
	return "default-src 'self'" +
		"; script-src 'self'" + extra +
		"; connect-src 'self'" + extra + heidi + " wss://*.heidihealth.com" +
		"; frame-src" + extra + heidi +
		"; img-src 'self' data: blob:" + extra + heidi +
		"; style-src 'self' 'unsafe-inline'" + extra +
		"; font-src 'self' data:" + extra + heidi +
		"; media-src 'self' blob:" +
		"; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
}
