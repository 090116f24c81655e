package launcher

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/heidi-tray/heidi-tray/keystore"
	"github.com/heidi-tray/heidi-tray/launcher/config"
	"github.com/heidi-tray/heidi-tray/launcher/heidiapi"
	"github.com/heidi-tray/heidi-tray/launcher/request"
)

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
	TokenSource string     `json:"token_source"` // keychain | emr | service
}

// KeyState is one region's key, masked.
type KeyState struct {
	Region string `json:"region"`
	Masked string `json:"masked"`
}

// The settings page's calls.

func (l *Launcher) SettingsState(ctx context.Context) (SettingsState, error) {
	st := SettingsState{Region: l.d.Settings.Region, Environment: l.d.Settings.Environment, Sandbox: l.d.Sandbox}
	if l.d.Config != nil {
		st.ConfigFile = l.d.Config.File
		for _, k := range []string{"region", "environment"} {
			if src := l.d.Config.Sources[k]; src.Kind == "policy" || src.Kind == "env" {
				st.Locked = append(st.Locked, k)
			}
		}
		if f, err := config.Load(l.d.Config.File, nil, nil); err == nil {
			st.Region, st.Environment = f.Region, f.Environment
			st.Restart = f.Region != l.d.Settings.Region || f.Environment != l.d.Settings.Environment
		}
	}
	st.TokenSource = l.TokenSourceName()
	var keys []keystore.RegionKey
	var err error
	if !l.keyless() { // emr, service: no key is read on this machine
		if keys, err = l.d.Keys.Status(ctx, heidiapi.Regions); err != nil {
			return st, err
		}
	}
	for _, k := range keys {
		st.Keys = append(st.Keys, KeyState{Region: k.Region, Masked: k.Masked})
	}
	s, err := l.launchSecret(ctx)
	if err != nil {
		return st, err
	}
	st.SecretSet = s != nil
	return st, nil
}

func (l *Launcher) SetKey(ctx context.Context, region, key string) error {
	if l.keyless() {
		return l.errKeyless()
	}
	a := l.d.Keys
	if err := a.SetAPIKey(ctx, strings.ToUpper(region), keystore.NewAPIKey(strings.TrimSpace(key))); err != nil {
		return err
	}
	l.d.Log.Info("API key stored from the settings page", "region", region)
	l.KeysChanged() // tokens minted with the old key must not outlive it
	return nil
}

func (l *Launcher) DeleteKey(ctx context.Context, region string) error {
	if l.keyless() {
		return l.errKeyless()
	}
	a := l.d.Keys
	err := a.DeleteAPIKey(ctx, strings.ToUpper(region))
	if errors.Is(err, keystore.ErrNotFound) {
		return fmt.Errorf("there is no key for %s", region)
	}
	l.KeysChanged()
	return err
}

func (l *Launcher) SetSecret(ctx context.Context, v string) error {
	a := l.d.Keys
	return a.SetLaunchSecret(ctx, keystore.NewLaunchSecret([]byte(strings.TrimSpace(v))))
}

func (l *Launcher) DeleteSecret(ctx context.Context) error {
	a := l.d.Keys
	if err := a.DeleteLaunchSecret(ctx); err != nil && !errors.Is(err, keystore.ErrNotFound) {
		return err
	}
	return nil
}

func (l *Launcher) SavePrefs(ctx context.Context, region, environment string) error {
	if l.d.Config == nil || l.d.Config.File == "" {
		return errors.New("there is no config file to save to")
	}
	if err := config.SetInFile(l.d.Config.File, "region", strings.ToUpper(region)); err != nil {
		return err
	}
	return config.SetInFile(l.d.Config.File, "environment", environment)
}

// TestConnection requests a real token for Heidi's test identity; the token
// is dropped at once.
func (l *Launcher) TestConnection(ctx context.Context, region string) (string, error) {
	region = strings.ToUpper(region)
	if err := request.ValidateRegion(region); err != nil {
		return "", err
	}
	if l.keyless() {
		return "", fmt.Errorf("token_source is %s: there is no key on this machine to test; open Heidi from the EMR instead", l.TokenSourceName())
	}
	key, err := l.d.Keys.APIKey(ctx, region)
	if err != nil {
		return "", err
	}
	tok, err := l.d.Heidi.FetchJWT(ctx, region, key, heidiapi.TestEmail, "heidi-tray-setup-test")
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("Heidi accepted the %s key and issued a token (valid for %s).", region, tok.Lifetime.Round(60e9)), nil
}

// OpenSettings opens the settings page (the tray's Set up…).
func (l *Launcher) OpenSettings() error {
	return l.d.Opener.Open(l.pages.SettingsURL())
}
