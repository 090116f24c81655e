package webui

import (
	"net/http"

	"github.com/heidi-tray/heidi-tray/assets"
	"github.com/heidi-tray/heidi-tray/launcher"
)

// SettingsURL returns a one-time URL that opens the settings page.
func (s *Server) SettingsURL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.newCodeLocked(launcher.Launch{ID: settingsLaunch})
}

const settingsLaunch = "settings"

func (s *Server) settingsPage(w http.ResponseWriter, r *http.Request) {
	if s.pageByCookie(r, settingsCookie, true, false) == nil { // a page load carries no header
		s.errorPage(w, http.StatusForbidden, "Open Set up… from the tray", "The settings page opens from the heidi-tray menu (Set up…) or with 'heidi-tray setup'.")
		return
	}
	data, _ := assets.Web.ReadFile("web/settings.html")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write(data)
}

// settingsCall guards every settings API: only a page opened as settings.
func (s *Server) settingsCall(fn func(w http.ResponseWriter, r *http.Request, b Backend)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.pageByCookie(r, settingsCookie, true, true) == nil {
			apiErr(w, http.StatusUnauthorized, "signed_out", "open Set up… from the tray menu again")
			return
		}
		fn(w, r, s.backend)
	}
}

func (s *Server) reply(w http.ResponseWriter, r *http.Request, b Backend, err error) {
	if err != nil {
		apiErr(w, http.StatusBadRequest, "not_saved", err.Error())
		return
	}
	st, err := b.SettingsState(r.Context())
	if err != nil {
		apiErr(w, http.StatusServiceUnavailable, "keychain", err.Error())
		return
	}
	writeJSON(w, http.StatusOK, st)
}

func (s *Server) registerSettings(mux *http.ServeMux) {
	mux.HandleFunc("GET /settings", s.settingsPage)
	mux.HandleFunc("POST /api/settings/state", s.settingsCall(func(w http.ResponseWriter, r *http.Request, b Backend) {
		var in struct{}
		if decode(w, r, 64, &in) {
			s.reply(w, r, b, nil)
		}
	}))
	mux.HandleFunc("POST /api/settings/key", s.settingsCall(func(w http.ResponseWriter, r *http.Request, b Backend) {
		var in struct {
			Region string `json:"region"`
			Key    string `json:"key"`
		}
		if decode(w, r, 4096, &in) {
			s.reply(w, r, b, b.SetKey(r.Context(), in.Region, in.Key))
		}
	}))
	mux.HandleFunc("POST /api/settings/key-delete", s.settingsCall(func(w http.ResponseWriter, r *http.Request, b Backend) {
		var in struct {
			Region string `json:"region"`
		}
		if decode(w, r, 256, &in) {
			s.reply(w, r, b, b.DeleteKey(r.Context(), in.Region))
		}
	}))
	mux.HandleFunc("POST /api/settings/secret", s.settingsCall(func(w http.ResponseWriter, r *http.Request, b Backend) {
		var in struct {
			Secret string `json:"secret"`
		}
		if decode(w, r, 4096, &in) {
			s.reply(w, r, b, b.SetSecret(r.Context(), in.Secret))
		}
	}))
	mux.HandleFunc("POST /api/settings/secret-delete", s.settingsCall(func(w http.ResponseWriter, r *http.Request, b Backend) {
		var in struct{}
		if decode(w, r, 64, &in) {
			s.reply(w, r, b, b.DeleteSecret(r.Context()))
		}
	}))
	mux.HandleFunc("POST /api/settings/prefs", s.settingsCall(func(w http.ResponseWriter, r *http.Request, b Backend) {
		var in struct {
			Region      string `json:"region"`
			Environment string `json:"environment"`
		}
		if decode(w, r, 256, &in) {
			s.reply(w, r, b, b.SavePrefs(r.Context(), in.Region, in.Environment))
		}
	}))
	mux.HandleFunc("POST /api/settings/test", s.settingsCall(func(w http.ResponseWriter, r *http.Request, b Backend) {
		var in struct {
			Region string `json:"region"`
		}
		if !decode(w, r, 256, &in) {
			return
		}
		msg, err := b.TestConnection(r.Context(), in.Region)
		if err != nil {
			writeJSON(w, http.StatusOK, map[string]any{"ok": false, "message": err.Error()})
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"ok": true, "message": msg})
	}))
}
