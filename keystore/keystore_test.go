//go:build linux

package keystore

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/heidi-tray/heidi-tray/launcher/testrig"
)

func TestMain(m *testing.M) {
	if h := os.Getenv("KEYSTORE_HELPER"); h != "" {
		helper(h)
		return
	}
	testrig.Main(m)
}

// helper runs one keychain call in a fresh process (godbus keeps one session
// connection per process, so another bus needs another process) and prints
// the outcome.
func helper(what string) {
	s := OS()
	s.timeout = 3 * time.Second
	var err error
	switch what {
	case "get":
		_, err = s.APIKey(context.Background(), "AU")
	case "set":
		err = s.SetAPIKey(context.Background(), "AU", NewAPIKey("helper-key-0001"))
	}
	var ue *UnavailableError
	switch {
	case err == nil:
		fmt.Println("OK")
	case errors.As(err, &ue):
		fmt.Println("UNAVAILABLE:", err)
	default:
		fmt.Println("ERROR:", err)
	}
}

func runHelper(t *testing.T, what string, env []string) string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(env, "KEYSTORE_HELPER="+what)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("helper: %v\n%s", err, out)
	}
	return strings.TrimSpace(string(out))
}

func TestSecretServiceRoundTrip(t *testing.T) {
	bus := testrig.SecretService(t)
	ctx := context.Background()
	s := OS().WithService("heidi-tray-test-roundtrip")
	const key = "hk_live_0123456789abcdefWXYZ"

	if _, err := s.APIKey(ctx, "EU"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing key: want ErrNotFound, got %v", err)
	}
	if err := s.SetAPIKey(ctx, "EU", NewAPIKey(key)); err != nil {
		t.Fatal(err)
	}
	got, err := s.APIKey(ctx, "EU")
	if err != nil || got.Reveal() != key {
		t.Fatalf("get: %v %q", err, got.Reveal())
	}
	// The item is really in the Secret Service: secret-tool sees it.
	out, err := bus.Command("secret-tool", "lookup", "service", "heidi-tray-test-roundtrip", "username", "api-key-EU").Output()
	if err != nil || string(out) != key {
		t.Fatalf("secret-tool lookup: %v %q", err, out)
	}
	st, err := s.Status(ctx, []string{"AU", "EU", "UK", "US", "CA"})
	if err != nil || len(st) != 1 || st[0].Region != "EU" || st[0].Masked != "****WXYZ" {
		t.Fatalf("status: %v %+v", err, st)
	}
	if err := s.DeleteAPIKey(ctx, "EU"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteAPIKey(ctx, "EU"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second delete: want ErrNotFound, got %v", err)
	}
	if out, _ := bus.Command("secret-tool", "lookup", "service", "heidi-tray-test-roundtrip", "username", "api-key-EU").Output(); len(out) != 0 {
		t.Fatalf("deleted key still in the keyring: %q", out)
	}
}

func TestLaunchSecretRoundTrip(t *testing.T) {
	testrig.SecretService(t)
	ctx := context.Background()
	s := OS().WithService("heidi-tray-test-launch")
	if err := s.SetLaunchSecret(ctx, NewLaunchSecret([]byte("short"))); err == nil {
		t.Fatal("a 5-character launch secret was accepted")
	}
	v := NewLaunchSecret([]byte("0123456789abcdef0123456789abcdef"))
	if err := s.SetLaunchSecret(ctx, v); err != nil {
		t.Fatal(err)
	}
	got, err := s.LaunchSecret(ctx)
	if err != nil || string(got.Reveal()) != string(v.Reveal()) {
		t.Fatalf("%v %q", err, got.Reveal())
	}
	if err := s.DeleteLaunchSecret(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestKeyValidation(t *testing.T) {
	s := Memory()
	ctx := context.Background()
	cases := map[string]string{
		"empty":       "",
		"too long":    strings.Repeat("k", MaxKeyLen+1),
		"space":       "abc def",
		"newline":     "abc\ndef",
		"non-ascii":   "clé-secrète",
		"nul":         "abc\x00def",
		"header-cr":   "abc\r\nX-Evil: 1",
		"tab":         "abc\tdef",
		"delete char": "abc\x7f",
	}
	for name, k := range cases {
		if err := s.SetAPIKey(ctx, "AU", NewAPIKey(k)); err == nil {
			t.Errorf("%s: key accepted", name)
		}
	}
	if err := s.SetAPIKey(ctx, "AU", NewAPIKey(strings.Repeat("k", MaxKeyLen))); err != nil {
		t.Errorf("a %d-byte key was refused: %v", MaxKeyLen, err)
	}
	// Which regions exist is the Heidi client's business; the keystore
	// refuses only what cannot be a region code in an account name.
	for _, r := range []string{"", "au", "A U", "AU/../X", "ABCDEFGHI"} {
		if err := s.SetAPIKey(ctx, r, NewAPIKey("valid-key-123")); err == nil || !strings.Contains(err.Error(), "region code") {
			t.Errorf("region %q: %v", r, err)
		}
	}
}

func TestMaxKeyFitsTheRealKeychain(t *testing.T) {
	testrig.SecretService(t)
	s := OS().WithService("heidi-tray-test-max")
	k := strings.Repeat("Z", MaxKeyLen)
	if err := s.SetAPIKey(context.Background(), "UK", NewAPIKey(k)); err != nil {
		t.Fatal(err)
	}
	got, err := s.APIKey(context.Background(), "UK")
	if err != nil || got.Reveal() != k {
		t.Fatalf("%v len=%d", err, len(got.Reveal()))
	}
	s.DeleteAPIKey(context.Background(), "UK")
}

// blockingBackend never answers, like a Secret Service waiting on a prompt.
type blockingBackend struct{ release chan struct{} }

func (b blockingBackend) Set(string, string, string) error { <-b.release; return nil }
func (b blockingBackend) Get(string, string) (string, error) {
	<-b.release
	return "", nil
}
func (b blockingBackend) Delete(string, string) error { <-b.release; return nil }

func TestHangingKeychainTimesOut(t *testing.T) {
	rel := make(chan struct{})
	defer close(rel)
	s := &Store{backend: blockingBackend{rel}, service: Service, timeout: 200 * time.Millisecond, check: func() error { return nil }}
	done := make(chan error, 1)
	go func() { _, err := s.APIKey(context.Background(), "AU"); done <- err }()
	select {
	case err := <-done:
		var ue *UnavailableError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), "did not answer") {
			t.Fatalf("want a timeout UnavailableError, got %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a hanging keychain hung the caller")
	}
}

func TestNoSessionBusNamesItAndSpawnsNothing(t *testing.T) {
	// A dbus-launch first on PATH records any attempt to autolaunch a bus.
	bin := t.TempDir()
	spawned := filepath.Join(bin, "spawned")
	os.WriteFile(filepath.Join(bin, "dbus-launch"), []byte("#!/bin/sh\necho called >> "+spawned+"\nexit 1\n"), 0o755)
	env := testrig.Unset(os.Environ(), "DBUS_SESSION_BUS_ADDRESS")
	env = testrig.SetEnv(env, "XDG_RUNTIME_DIR="+t.TempDir(), "DISPLAY=:0", "PATH="+bin+":"+os.Getenv("PATH"))
	for _, what := range []string{"get", "set"} {
		out := runHelper(t, what, env)
		if !strings.HasPrefix(out, "UNAVAILABLE:") || !strings.Contains(out, "no D-Bus session bus") {
			t.Fatalf("%s without a bus: %q", what, out)
		}
	}
	// A bus address that points nowhere is named too.
	out := runHelper(t, "get", testrig.SetEnv(env, "DBUS_SESSION_BUS_ADDRESS=unix:path=/nonexistent/bus"))
	if !strings.Contains(out, "/nonexistent/bus") {
		t.Fatalf("dangling bus address: %q", out)
	}
	if _, err := os.Stat(spawned); err == nil {
		t.Fatal("a keychain call without a bus tried to launch a D-Bus daemon")
	}
}

func TestBusWithoutSecretService(t *testing.T) {
	if _, err := exec.LookPath("dbus-daemon"); err != nil {
		testrig.Missing(t, "dbus-daemon (Debian package dbus-daemon)", err)
	}
	dir := testrig.ShortTempDir(t)
	conf := filepath.Join(dir, "nosvc.conf")
	os.WriteFile(conf, []byte(`<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig><type>session</type><listen>unix:tmpdir=/tmp</listen><auth>EXTERNAL</auth>
<policy context="default"><allow send_destination="*" eavesdrop="true"/><allow eavesdrop="true"/><allow own="*"/></policy>
</busconfig>`), 0o600)
	addr, _, err := testrig.StartBus(dir, conf)
	if err != nil {
		testrig.Missing(t, "dbus-daemon", err)
	}
	out := runHelper(t, "get", testrig.SetEnv(os.Environ(), "DBUS_SESSION_BUS_ADDRESS="+addr))
	if !strings.HasPrefix(out, "UNAVAILABLE:") || !strings.Contains(out, "no Secret Service") {
		t.Fatalf("bus without a Secret Service: %q", out)
	}
}

func TestLockedKeyring(t *testing.T) {
	testrig.Need(t, "gnome-keyring-daemon", "gnome-keyring")
	dir := testrig.ShortTempDir(t)
	addr, _, err := testrig.StartBus(dir, "")
	if err != nil {
		testrig.Missing(t, "dbus-daemon", err)
	}
	// gnome-keyring started without --unlock and without a login keyring: locked.
	kr := exec.Command("gnome-keyring-daemon", "--start", "--foreground", "--components=secrets")
	kr.Env = testrig.SetEnv(os.Environ(), "DBUS_SESSION_BUS_ADDRESS="+addr, "XDG_DATA_HOME="+filepath.Join(dir, "data"), "XDG_RUNTIME_DIR="+dir)
	if err := kr.Start(); err != nil {
		t.Fatal(err)
	}
	testrig.Own(kr)
	t.Cleanup(func() { kr.Process.Kill(); kr.Wait() })
	time.Sleep(300 * time.Millisecond)
	out := runHelper(t, "get", testrig.SetEnv(os.Environ(), "DBUS_SESSION_BUS_ADDRESS="+addr, "XDG_DATA_HOME="+filepath.Join(dir, "data")))
	if !strings.HasPrefix(out, "UNAVAILABLE:") || !strings.Contains(out, "locked") {
		t.Fatalf("locked keyring: %q", out)
	}
}
