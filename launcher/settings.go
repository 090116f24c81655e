package launcher

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/heidi-tray/heidi-tray/keystore"
	"github.com/heidi-tray/heidi-tray/launcher/config"
	"github.com/heidi-tray/heidi-tray/launcher/doctor"
	"github.com/heidi-tray/heidi-tray/launcher/heidiapi"
	"github.com/heidi-tray/heidi-tray/launcher/request"
	"github.com/heidi-tray/heidi-tray/launcher/webui"
)

// KeyAdmin changes keys and the launch secret (the keystore).
type KeyAdmin interface {
	SetAPIKey(ctx context.Context, region string, key keystore.APIKey) error
	DeleteAPIKey(ctx context.Context, region string) error
	SetLaunchSecret(ctx context.Context, v keystore.LaunchSecret) error
	DeleteLaunchSecret(ctx context.Context) error
}

// The settings page's backend (webui.SettingsBackend).

func (l *Launcher) SettingsState(ctx context.Context) (webui.SettingsState, error) {
	st := webui.SettingsState{Region: l.d.Settings.Region, Environment: l.d.Settings.Environment, Sandbox: l.d.Sandbox}
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
	keys, err := l.d.Keys.Status(ctx, heidiapi.Regions)
	if err != nil {
		return st, err
	}
	for _, k := range keys {
		st.Keys = append(st.Keys, webui.KeyState{Region: k.Region, Masked: k.Masked})
	}
	s, err := l.launchSecret(ctx)
	if err != nil {
		return st, err
	}
	st.SecretSet = s != nil
	return st, nil
}

func (l *Launcher) admin() (KeyAdmin, error) {
	a, ok := l.d.Keys.(KeyAdmin)
	if !ok {
		return nil, errors.New("keys cannot be changed here")
	}
	return a, nil
}

func (l *Launcher) SetKey(ctx context.Context, region, key string) error {
	a, err := l.admin()
	if err != nil {
		return err
	}
	if err := a.SetAPIKey(ctx, strings.ToUpper(region), keystore.NewAPIKey(strings.TrimSpace(key))); err != nil {
		return err
	}
	l.d.Log.Info("API key stored from the settings page", "region", region)
	l.KeysChanged() // tokens minted with the old key must not outlive it
	return nil
}

func (l *Launcher) DeleteKey(ctx context.Context, region string) error {
	a, err := l.admin()
	if err != nil {
		return err
	}
	err = a.DeleteAPIKey(ctx, strings.ToUpper(region))
	if errors.Is(err, keystore.ErrNotFound) {
		return fmt.Errorf("there is no key for %s", region)
	}
	l.KeysChanged()
	return err
}

func (l *Launcher) SetSecret(ctx context.Context, v string) error {
	a, err := l.admin()
	if err != nil {
		return err
	}
	return a.SetLaunchSecret(ctx, keystore.NewLaunchSecret([]byte(strings.TrimSpace(v))))
}

func (l *Launcher) DeleteSecret(ctx context.Context) error {
	a, err := l.admin()
	if err != nil {
		return err
	}
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
	key, err := l.d.Keys.APIKey(ctx, region)
	if err != nil {
		return "", err
	}
	tok, err := l.d.Heidi.FetchJWT(ctx, region, key, doctor.TestEmail, "heidi-tray-setup-test")
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("Heidi accepted the %s key and issued a token (valid for %s).", region, tok.Lifetime.Round(60e9)), nil
}

// OpenSettings opens the settings page (the tray's Set up…).
func (l *Launcher) OpenSettings() error {
	return l.d.Opener.Open(l.pages.SettingsURL())
}
