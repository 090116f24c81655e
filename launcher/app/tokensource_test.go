package app

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/heidi-tray/heidi-tray/keystore"
	"github.com/heidi-tray/heidi-tray/launcher"
	"github.com/heidi-tray/heidi-tray/launcher/request"
)

// noKeys is a keychain that fails the test if an API key is read or stored:
// with token_source emr or service none may be.
type noKeys struct {
	*keystore.Store
	t *testing.T
}

func (k noKeys) APIKey(context.Context, string) (keystore.APIKey, error) {
	k.t.Error("an API key was read")
	return keystore.APIKey{}, keystore.ErrNotFound
}
func (k noKeys) Status(context.Context, []string) ([]keystore.RegionKey, error) {
	k.t.Error("the keychain's keys were listed")
	return nil, nil
}
func (k noKeys) SetAPIKey(context.Context, string, keystore.APIKey) error {
	k.t.Error("an API key was stored")
	return nil
}

func jwtFor(email string, exp time.Time) string {
	p, _ := json.Marshal(map[string]any{"email": email, "exp": exp.Unix()})
	return "eyJhbGciOiJIUzI1NiJ9." + base64.RawURLEncoding.EncodeToString(p) + ".c2ln"
}

func TestEMRTokenSourceReadsNoKey(t *testing.T) {
	opt, _ := sandboxOptions(t, []string{"HEIDI_TRAY_TOKEN_SOURCE=emr"})
	opt.Keys = noKeys{keystore.Memory(), t}
	a, err := New(opt)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	a.Start(context.Background())
	l := a.Launcher
	ctx := context.Background()
	if st := l.Status(ctx); st.TokenSource != "emr" || len(st.KeyRegions) != 0 || st.State != launcher.StateReady {
		t.Fatalf("status: %+v", st)
	}
	ss, err := l.SettingsState(ctx)
	if err != nil || ss.TokenSource != "emr" || len(ss.Keys) != 0 {
		t.Fatalf("settings page state: %+v %v", ss, err)
	}
	for name, err := range map[string]error{
		"set key":    l.SetKey(ctx, "AU", "test-key-0123456789"),
		"delete key": l.DeleteKey(ctx, "AU"),
	} {
		if err == nil || !strings.Contains(err.Error(), "token_source is emr") {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := l.TestConnection(ctx, "AU"); err == nil || !strings.Contains(err.Error(), "no key on this machine") {
		t.Errorf("connection test: %v", err)
	}
	c := request.Clinician{Email: "dr.a@clinic.example", UserID: "42", Region: "AU"}
	err = l.ProvideToken(ctx, c, jwtFor("dr.b@clinic.example", time.Now().Add(time.Hour)), time.Hour)
	if launcher.ErrorCode(err) != "token_refused" {
		t.Fatalf("another clinician's token: %v (%s)", err, launcher.ErrorCode(err))
	}
	good := jwtFor("dr.a@clinic.example", time.Now().Add(time.Hour))
	if err := l.ProvideToken(ctx, c, good, time.Hour); err != nil {
		t.Fatal(err)
	}
	tok, err := l.Token(ctx, c)
	if err != nil || tok.JWT.Reveal() != good {
		t.Fatalf("the EMR's token: %v", err)
	}
}

func TestServiceTokenSourceNeedsURLs(t *testing.T) {
	opt, _ := sandboxOptions(t, []string{"HEIDI_TRAY_TOKEN_SOURCE=service"})
	if _, err := New(opt); err == nil || !strings.Contains(err.Error(), "token_service_urls is empty") {
		t.Fatalf("service without URLs: %v", err)
	}
}
