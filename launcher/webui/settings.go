package webui

import (
	"context"
	"net/http"

	"github.com/heidi-tray/heidi-tray/assets"
)

// SettingsBackend does what the settings page asks. Keys and secrets go
// straight into the keychain and never come back out, only masked.
type SettingsBackend interface {
	SettingsState(ctx context.Context) (SettingsState, error)
	SetKey(ctx context.Context, region, key string) error
	DeleteKey(ctx context.Context, region string) error
	SetSecret(ctx context.Context, secret string) error
	DeleteSecret(ctx context.Context) error
	SavePrefs(ctx context.Context, region, environment string) error
	TestConnection(ctx context.Context, region string) (string, error)
}

// SettingsState is what the settings page shows.
type SettingsState struct {
	Keys        []KeyState `json:"keys"`
	Region      string     `json:"region"`
	Environment string     `json:"environment"`
	SecretSet   bool       `json:"secret_set"`
	ConfigFile  string     `json:"config_file"`
	Locked      []string   `json:"locked"` // settings fixed by policy or environment
	Sandbox     bool       `json:"sandbox"`
	Restart     bool       `json:"restart_needed"`
}

// KeyState is one region's key, masked.
type KeyState struct {
	Region string `json:"region"`
	Masked string `json:"masked"`
}

// SettingsURL returns a one-time URL that opens the settings page.
func (s *Server) SettingsURL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.newCodeLocked(Launch{ID: settingsLaunch})
}

const settingsLaunch = "settings"

func (s *Server) settingsPage(w http.ResponseWriter, r *http.Request) {
	if s.pageByCookie(r, settingsCookie, true) == nil {
		s.errorPage(w, http.StatusForbidden, "Open Set up… from the tray", "The settings page opens from the heidi-tray menu (Set up…) or with 'heidi-tray setup'.")
		return
	}
	data, _ := assets.Web.ReadFile("web/settings.html")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write(data)
}

// settingsCall guards every settings API: only a page opened as settings.
func (s *Server) settingsCall(fn func(w http.ResponseWriter, r *http.Request, b SettingsBackend)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.pageByCookie(r, settingsCookie, true) == nil {
			apiErr(w, http.StatusUnauthorized, "signed_out", "open Set up… from the tray menu again")
			return
		}
		b, ok := s.backend.(SettingsBackend)
		if !ok {
			apiErr(w, http.StatusNotImplemented, "unsupported", "settings are not available")
			return
		}
		fn(w, r, b)
	}
}

func (s *Server) reply(w http.ResponseWriter, r *http.Request, b SettingsBackend, err error) {
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
	mux.HandleFunc("POST /api/settings/state", s.settingsCall(func(w http.ResponseWriter, r *http.Request, b SettingsBackend) {
		var in struct{}
		if decode(w, r, 64, &in) {
			s.reply(w, r, b, nil)
		}
	}))
	mux.HandleFunc("POST /api/settings/key", s.settingsCall(func(w http.ResponseWriter, r *http.Request, b SettingsBackend) {
		var in struct {
			Region string `json:"region"`
			Key    string `json:"key"`
		}
		if decode(w, r, 4096, &in) {
			s.reply(w, r, b, b.SetKey(r.Context(), in.Region, in.Key))
		}
	}))
	mux.HandleFunc("POST /api/settings/key-delete", s.settingsCall(func(w http.ResponseWriter, r *http.Request, b SettingsBackend) {
		var in struct {
			Region string `json:"region"`
		}
		if decode(w, r, 256, &in) {
			s.reply(w, r, b, b.DeleteKey(r.Context(), in.Region))
		}
	}))
	mux.HandleFunc("POST /api/settings/secret", s.settingsCall(func(w http.ResponseWriter, r *http.Request, b SettingsBackend) {
		var in struct {
			Secret string `json:"secret"`
		}
		if decode(w, r, 4096, &in) {
			s.reply(w, r, b, b.SetSecret(r.Context(), in.Secret))
		}
	}))
	mux.HandleFunc("POST /api/settings/secret-delete", s.settingsCall(func(w http.ResponseWriter, r *http.Request, b SettingsBackend) {
		var in struct{}
		if decode(w, r, 64, &in) {
			s.reply(w, r, b, b.DeleteSecret(r.Context()))
		}
	}))
	mux.HandleFunc("POST /api/settings/prefs", s.settingsCall(func(w http.ResponseWriter, r *http.Request, b SettingsBackend) {
		var in struct {
			Region      string `json:"region"`
			Environment string `json:"environment"`
		}
		if decode(w, r, 256, &in) {
			s.reply(w, r, b, b.SavePrefs(r.Context(), in.Region, in.Environment))
		}
	}))
	mux.HandleFunc("POST /api/settings/test", s.settingsCall(func(w http.ResponseWriter, r *http.Request, b SettingsBackend) {
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
