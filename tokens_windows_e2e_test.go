//go:build linux

package main

// The clinic token service's Windows build (heidi-tray-tokens.exe, -tags
// tokenservice) under Wine, against a real MIT KDC on Linux: it verifies a
// Linux user's Kerberos ticket and mints a token. The workstation exe
// refuses 'serve' and says where the service build is.

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/heidi-tray/heidi-tray/launcher/heidiapi/fakeheidi"
	"github.com/heidi-tray/heidi-tray/launcher/request"
	"github.com/heidi-tray/heidi-tray/launcher/testrig"
	"github.com/heidi-tray/heidi-tray/launcher/tokensource"
)

func TestWindowsTokenServiceUnderWine(t *testing.T) {
	w := newWineWorld(t)
	if r := w.wine("", w.exe, "serve", "--config", `C:\none.json`); r.code != 2 || !strings.Contains(r.stderr, "heidi-tray-tokens.exe") {
		t.Fatalf("the workstation exe's serve: %+v", r)
	}
	svcExe := filepath.Join(w.dir, "heidi-tray-tokens.exe")
	build := exec.Command("go", "build", "-tags", "tokenservice", "-trimpath", "-ldflags", "-s -w", "-o", svcExe, ".")
	build.Env = append(os.Environ(), "GOOS=windows", "GOARCH=amd64", "CGO_ENABLED=0")
	if b, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building heidi-tray-tokens.exe: %v\n%s", err, b)
	}

	kdc := testrig.StartKDC(t)
	kdc.AddUser(t, "alice", "alice-pw")
	keytab := filepath.Join(kdc.Dir, "svc.keytab")
	kdc.ServiceKeytab(t, "HTTP/localhost", keytab)
	ca, cert, key := testrig.TLSCert(t, kdc.Dir)
	fake := fakeheidi.New(e2eKey)
	hs := httptest.NewServer(fake)
	defer hs.Close()
	keys := filepath.Join(kdc.Dir, "keys.json")
	os.WriteFile(keys, []byte(`{"AU":"`+e2eKey+`"}`), 0o600)
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	audit := filepath.Join(kdc.Dir, "audit.jsonl")
	cfg, _ := json.Marshal(map[string]any{"listen": fmt.Sprintf("127.0.0.1:%d", port), "tls_cert": testrig.WinPath(cert),
		"tls_key": testrig.WinPath(key), "keytab": testrig.WinPath(keytab), "principal": "HTTP/localhost", "keys_file": testrig.WinPath(keys),
		"api_base": hs.URL + fakeheidi.BasePath, "identity": "personal", "email_rule": "{user}@clinic.example", "audit_log": testrig.WinPath(audit)})
	cfgFile := filepath.Join(kdc.Dir, "svc.json")
	os.WriteFile(cfgFile, cfg, 0o600)

	svc := exec.Command("timeout", "120", "wine", svcExe, "serve", "--config", testrig.WinPath(cfgFile))
	svc.Env = w.env
	out := &testrig.SyncBuffer{}
	svc.Stdout, svc.Stderr = out, out
	svc.WaitDelay = 5 * time.Second
	if err := svc.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { // timeout passes SIGTERM on to wine; the rig's cleanup ends the prefix's wineserver
		svc.Process.Signal(syscall.SIGTERM)
		svc.Wait()
	}()
	testrig.WaitListening(t, fmt.Sprintf("127.0.0.1:%d", port), "heidi-tray-tokens.exe", 20*time.Second, out)
	cc := filepath.Join(kdc.Dir, "alice.cc")
	kdc.Kinit(t, "alice", "alice-pw", cc, "")
	hc, err := tokensource.NewHTTPClient(ca)
	if err != nil {
		t.Fatal(err)
	}
	client := &tokensource.Service{URLs: []string{fmt.Sprintf("https://localhost:%d", port)}, SPN: "HTTP/localhost", HTTP: hc, Timeout: 10 * time.Second,
		Negotiator: tokensource.CCache{Path: "FILE:" + cc, Config: kdc.Config}}
	tok, err := client.Fetch(context.Background(), request.Clinician{Email: "alice@clinic.example", UserID: "7", Region: "AU"})
	if err != nil {
		t.Fatalf("a token from the Windows build: %v\n%s", err, out)
	}
	if !fake.Issued(tok.JWT.Reveal()) {
		t.Fatal("not a token Heidi issued")
	}
	_, err = client.Fetch(context.Background(), request.Clinician{Email: "bob@clinic.example", UserID: "8", Region: "AU"})
	if err == nil || !strings.Contains(err.Error(), "may only get tokens for its own email") {
		t.Fatalf("another email: %v", err)
	}
	a, _ := os.ReadFile(audit)
	if !strings.Contains(string(a), `"principal":"alice@HEIDI.TEST"`) || strings.Contains(string(a), tok.JWT.Reveal()) {
		t.Fatalf("audit log:\n%s", a)
	}
}
