//go:build linux

package main

// The clinic token service as it runs in a clinic: 'heidi-tray serve'
// processes (two replicas) against a real MIT KDC, one stopped by SIGTERM
// mid-run, with the tray-side client signing in from a kinit cache.

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

func TestServeReplicas(t *testing.T) {
	kdc := testrig.StartKDC(t)
	dir := kdc.Dir
	kdc.AddUser(t, "alice", "alice-pw")
	keytab := filepath.Join(dir, "svc.keytab")
	kdc.ServiceKeytab(t, "HTTP/localhost", keytab)
	ca, cert, key := testrig.TLSCert(t, dir)
	fake := fakeheidi.New(e2eKey)
	hs := httptest.NewServer(fake)
	defer hs.Close()
	keys := filepath.Join(dir, "keys.json")
	os.WriteFile(keys, []byte(`{"AU":"`+e2eKey+`"}`), 0o600)

	type replica struct {
		cmd   *exec.Cmd
		url   string
		audit string
		log   *testrig.SyncBuffer
		done  chan error
	}
	start := func(name string) *replica {
		l, _ := net.Listen("tcp", "127.0.0.1:0")
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		r := &replica{url: fmt.Sprintf("https://localhost:%d", port), audit: filepath.Join(dir, name+"-audit.jsonl"), log: &testrig.SyncBuffer{}, done: make(chan error, 1)}
		cfg, _ := json.Marshal(map[string]any{"listen": fmt.Sprintf("127.0.0.1:%d", port), "tls_cert": cert, "tls_key": key, "keytab": keytab,
			"principal": "HTTP/localhost", "keys_file": keys, "api_base": hs.URL + fakeheidi.BasePath, "identity": "personal",
			"email_rule": "{user}@clinic.example", "audit_log": r.audit})
		cfgFile := filepath.Join(dir, name+".json")
		os.WriteFile(cfgFile, cfg, 0o600)
		r.cmd = exec.Command(binary, "serve", "--config", cfgFile)
		if name == "b" {
			r.cmd.Args = append(r.cmd.Args, "--log-dir", filepath.Join(dir, "b-logs"))
		}
		r.cmd.Env = kdc.Env()
		r.cmd.Stdout, r.cmd.Stderr = r.log, r.log
		if err := r.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		testrig.Own(r.cmd)
		go func() { r.done <- r.cmd.Wait() }()
		t.Cleanup(func() { r.cmd.Process.Kill(); <-r.done; r.done <- nil })
		testrig.WaitListening(t, fmt.Sprintf("127.0.0.1:%d", port), "serve "+name, 5*time.Second, r.log)
		return r
	}
	a, b := start("a"), start("b")
	cc := filepath.Join(dir, "alice.cc")
	kdc.Kinit(t, "alice", "alice-pw", cc, "")
	hc, err := tokensource.NewHTTPClient(ca)
	if err != nil {
		t.Fatal(err)
	}
	svc := &tokensource.Service{URLs: []string{a.url, b.url}, SPN: "HTTP/localhost", HTTP: hc, Timeout: time.Second,
		Negotiator: tokensource.CCache{Path: "FILE:" + cc, Config: kdc.Config}}
	alice := request.Clinician{Email: "alice@clinic.example", UserID: "emr-7", Region: "AU"}
	if _, err := svc.Fetch(context.Background(), alice); err != nil {
		t.Fatalf("with both replicas: %v", err)
	}
	a.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-a.done:
		a.done <- nil
		if err != nil {
			t.Fatalf("replica a did not stop cleanly on SIGTERM: %v\n%s", err, a.log)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("replica a did not stop on SIGTERM")
	}
	tok, err := svc.Fetch(context.Background(), alice)
	if err != nil {
		t.Fatalf("with replica a stopped: %v", err)
	}
	if !fake.Issued(tok.JWT.Reveal()) {
		t.Fatal("not a token Heidi issued")
	}
	for _, r := range []*replica{a, b} {
		audit, _ := os.ReadFile(r.audit)
		if n := strings.Count(string(audit), `"result":"ok"`); n != 1 {
			t.Errorf("%s audited %d mints, want 1:\n%s", r.url, n, audit)
		}
		for _, s := range append(fake.IssuedTokens(), e2eKey) {
			if strings.Contains(string(audit), s) || strings.Contains(r.log.String(), s) {
				t.Errorf("%s: a token or the key is in its audit log or output", r.url)
			}
		}
	}
	bLog, _ := os.ReadFile(filepath.Join(dir, "b-logs", "heidi-tray.log"))
	if !strings.Contains(string(bLog), "token service listening") || b.log.String() != "" {
		t.Errorf("--log-dir: the file has %q, standard error %q", bLog, b.log.String())
	}
	for _, s := range append(fake.IssuedTokens(), e2eKey) {
		if strings.Contains(string(bLog), s) {
			t.Error("a token or the key is in the service log file")
		}
	}
	if !strings.Contains(a.log.String(), "token service stopped") {
		t.Errorf("replica a's log:\n%s", a.log)
	}
	// --check names what is wrong with a deployment.
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"identity":"shared"}`), 0o600)
	out, err := exec.Command(binary, "serve", "--config", bad, "--check").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "tls_cert and tls_key are required") {
		t.Fatalf("serve --check with a bad config: %v\n%s", err, out)
	}
}
