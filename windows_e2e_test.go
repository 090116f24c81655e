//go:build linux

package main

// The real Windows build under Wine: the tray, the named pipe, Credential
// Manager and the registry, the per-user MSI, and Authenticode signing.

import (
	"bytes"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/heidi-tray/heidi-tray/launcher/heidiapi/fakeheidi"
	"github.com/heidi-tray/heidi-tray/launcher/testrig"
)

type wineWorld struct {
	t      *testing.T
	dir    string
	env    []string
	exe    string
	prefix string // the Wine prefix (drive_c is under it)
}

func newWineWorld(t *testing.T) *wineWorld {
	t.Helper()
	prefix, env := testrig.Wine(t, "./.ci/wine-prefix")
	w := &wineWorld{t: t, dir: testrig.ShortTempDir(t), env: env, prefix: prefix}
	w.exe = filepath.Join(w.dir, "heidi-tray.exe")
	w.build(w.exe, ".", "-H=windowsgui")
	return w
}

func (w *wineWorld) build(out, pkg, ldflags string) {
	w.t.Helper()
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w "+ldflags, "-o", out, pkg)
	cmd.Env = append(os.Environ(), "GOOS=windows", "GOARCH=amd64", "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		w.t.Fatalf("building %s for Windows: %v\n%s", pkg, err, b)
	}
}

// wine runs a Windows program; stdin may be empty.
func (w *wineWorld) wine(stdin string, args ...string) result {
	w.t.Helper()
	cmd := exec.Command("timeout", append([]string{"120", "wine"}, args...)...)
	cmd.Env = w.env
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	cmd.WaitDelay = 5 * time.Second // a Windows child must not hold our pipes forever
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	}
	return result{code, out.String(), errb.String()}
}

func TestWindowsTrayUnderWine(t *testing.T) {
	w := newWineWorld(t)
	stub := filepath.Join(w.dir, "browser-stub.exe")
	w.build(stub, "./bench/stub", "")
	fake := fakeheidi.New(e2eKey)
	srv := httptest.NewServer(fake)
	defer srv.Close()
	browserLog := filepath.Join(w.dir, "browser.log")
	w.env = append(w.env, "HEIDI_TRAY_API_BASE="+srv.URL+fakeheidi.BasePath,
		"HEIDI_TRAY_BROWSER="+testrig.WinPath(stub), "BENCH_BROWSER_LOG="+testrig.WinPath(browserLog))

	if r := w.wine(e2eKey+"\r\n", w.exe, "key", "set", "--region", "AU"); r.code != 0 || !strings.Contains(r.stdout, "****3a9c") {
		t.Fatalf("key set into Credential Manager: %+v", r)
	}
	tray := exec.Command("timeout", "300", "wine", w.exe, "run")
	tray.Env = w.env
	trayOut := filepath.Join(w.dir, "tray.out")
	tray.Stdout, _ = os.Create(trayOut)
	tray.Stderr = tray.Stdout
	if err := tray.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { tray.Process.Kill(); tray.Wait() }()
	var st result
	for i := 0; i < 60; i++ {
		if st = w.wine("", w.exe, "status", "--json"); st.code == 0 {
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	if st.code != 0 || !strings.Contains(st.stdout, `\\\\.\\pipe\\heidi-tray-S-1-5-`) {
		out, _ := os.ReadFile(trayOut)
		t.Fatalf("the tray never answered over its pipe: %+v\ntray: %s", st, out)
	}
	r := w.wine("", w.exe, "open", "--email", "dr.w@clinic.example", "--user-id", "7", "--patient-id", "P1", "--patient-name", "Jane Citizen")
	if r.code != 0 || !strings.Contains(r.stdout, "opening") {
		t.Fatalf("open over the pipe: %+v", r)
	}
	var urls []string
	for i := 0; i < 100 && len(urls) == 0; i++ {
		data, _ := os.ReadFile(browserLog)
		for _, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
			if _, u, ok := strings.Cut(l, " "); ok {
				urls = append(urls, u)
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	// The browser is given a private redirect file, never the code.
	if len(urls) != 1 || !strings.HasPrefix(urls[0], "file:///C:/") || strings.Contains(urls[0], "code=") {
		t.Fatalf("the browser got %v", urls)
	}
	_, drivePath, _ := strings.Cut(urls[0], "file:///C:/")
	redirect, err := os.ReadFile(filepath.Join(w.prefix, "drive_c", drivePath))
	m := redirectRE.FindStringSubmatch(string(redirect))
	if err != nil || m == nil || !launchURL.MatchString(html.UnescapeString(m[1])) {
		t.Fatalf("the redirect file %s: %v %q", urls[0], err, redirect)
	}
	// The page server checks every connection's owner in Windows' TCP table:
	// this Linux process is no Windows process of the tray's user, so it is
	// refused unanswered (code unredeemed); a Windows process of the same
	// user is served (launcher/peeruser's tests under Wine).
	if resp, err := http.Get(html.UnescapeString(m[1])); err == nil {
		resp.Body.Close()
		t.Fatalf("a connection Wine cannot attribute to the tray's user was answered: %s", resp.Status)
	}
	calls := fake.Calls()
	if len(calls) != 1 || calls[0].APIKey != e2eKey || calls[0].Email != "dr.w@clinic.example" {
		t.Fatalf("JWT calls %+v", calls)
	}
	// The bound clinician's URL launch goes through the same pipe.
	if r := w.wine("", w.exe, "url", "--", "heidi-tray://open?email=dr.w%40clinic.example&user_id=7"); r.code != 0 || !strings.Contains(r.stdout, "opening") {
		t.Fatalf("url over the pipe: %+v", r)
	}
	// A second tray in the same session is refused by the session mutex.
	if r := w.wine("", w.exe, "run"); r.code != 1 || !strings.Contains(r.stderr+r.stdout, "already running") {
		t.Fatalf("second tray: %+v", r)
	}
	if r := w.wine("", w.exe, "quit"); r.code != 0 {
		t.Fatalf("quit: %+v", r)
	}
	done := make(chan struct{})
	go func() { tray.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("the Windows tray did not stop")
	}
	w.wine("", w.exe, "key", "delete", "--region", "AU")
	for _, f := range []string{trayOut, browserLog} {
		if data, _ := os.ReadFile(f); bytes.Contains(data, []byte(e2eKey)) {
			t.Fatalf("the key leaked into %s", f)
		}
	}
}

func regQuery(w *wineWorld, key string) string {
	r := w.wine("", "reg", "query", key, "/s")
	return r.stdout
}

func TestMSIAndSigningUnderWine(t *testing.T) {
	w := newWineWorld(t)
	for _, p := range []string{"wixl", "msiinfo", "msibuild", "osslsigncode", "openssl"} {
		testrig.Need(t, p, map[string]string{"wixl": "wixl", "msiinfo": "msitools", "msibuild": "msitools", "osslsigncode": "osslsigncode", "openssl": "openssl"}[p])
	}
	msi := filepath.Join(w.dir, "heidi-tray.msi")
	if out, err := exec.Command("./packaging/windows/build-msi.sh", "1.2.3", w.exe, msi).CombinedOutput(); err != nil {
		t.Fatalf("build-msi: %v\n%s", err, out)
	}
	sum, _ := exec.Command("msiinfo", "suminfo", msi).Output()
	if !strings.Contains(string(sum), "Source: 10") {
		t.Fatalf("the MSI is not per-user (Source 10 = compressed, no elevation):\n%s", sum)
	}
	reg, _ := exec.Command("msiinfo", "export", msi, "Registry").Output()
	for _, want := range []string{`Software\Classes\heidi-tray\shell\open\command		"[#HeidiTrayExe]" url -- "%1"`, `Software\Microsoft\Windows\CurrentVersion\Run	heidi-tray	"[#HeidiTrayExe]" run`} {
		if !strings.Contains(string(reg), want) {
			t.Fatalf("Registry table lacks %q:\n%s", want, reg)
		}
	}
	if prop, _ := exec.Command("msiinfo", "export", msi, "Property").Output(); !regexp.MustCompile(`ProductVersion\s+1\.2\.3999\s`).Match(prop) || !strings.Contains(string(prop), "UpgradeCode") {
		t.Fatalf("Property table:\n%s", prop)
	}

	// Install per user, check the registry, uninstall, check it is gone.
	if r := w.wine("", "msiexec", "/i", testrig.WinPath(msi), "/qn"); r.code != 0 {
		t.Fatalf("msiexec /i: %+v", r)
	}
	got := regQuery(w, `HKCU\Software\Classes\heidi-tray`)
	if !regexp.MustCompile(`(?i)"C:\\users\\[^\\]+\\AppData\\Local\\Programs\\heidi-tray\\heidi-tray\.exe" url -- "%1"`).MatchString(got) || !strings.Contains(got, "URL Protocol") {
		t.Fatalf("scheme after install:\n%s", got)
	}
	if run := regQuery(w, `HKCU\Software\Microsoft\Windows\CurrentVersion\Run`); !strings.Contains(run, `heidi-tray.exe" run`) {
		t.Fatalf("Run after install:\n%s", run)
	}
	time.Sleep(2 * time.Second) // the installer started the tray; uninstall must stop it
	if r := w.wine("", "msiexec", "/x", testrig.WinPath(msi), "/qn"); r.code != 0 {
		t.Fatalf("msiexec /x: %+v", r)
	}
	if got := regQuery(w, `HKCU\Software\Classes\heidi-tray`); strings.Contains(got, "heidi-tray.exe") {
		t.Fatalf("scheme left after uninstall:\n%s", got)
	}
	if run := regQuery(w, `HKCU\Software\Microsoft\Windows\CurrentVersion\Run`); strings.Contains(run, "heidi-tray") {
		t.Fatalf("Run value left after uninstall:\n%s", run)
	}

	// Authenticode with a throwaway certificate; a tampered copy must fail.
	cert, key := filepath.Join(w.dir, "sign.crt"), filepath.Join(w.dir, "sign.key")
	if out, err := exec.Command("openssl", "req", "-x509", "-newkey", "rsa:2048", "-sha256", "-days", "2", "-nodes",
		"-keyout", key, "-out", cert, "-subj", "/CN=heidi-tray CI test signing",
		"-addext", "keyUsage=critical,digitalSignature", "-addext", "extendedKeyUsage=codeSigning",
		"-addext", "basicConstraints=critical,CA:FALSE").CombinedOutput(); err != nil {
		t.Fatalf("openssl: %v %s", err, out)
	}
	if out, err := exec.Command("./packaging/windows/sign.sh", "--cert", cert, "--key", key, w.exe).CombinedOutput(); err != nil {
		t.Fatalf("sign.sh: %v %s", err, out)
	}
	// PKCS#12 with a password: from a file, and from the environment, into
	// a path with spaces; osslsigncode (behind a shim that records its
	// arguments) never sees the password on its command line.
	const pass = "p12 pass-WORD-7c1e"
	p12 := filepath.Join(w.dir, "code sign.p12")
	if out, err := exec.Command("openssl", "pkcs12", "-export", "-inkey", key, "-in", cert, "-out", p12, "-passout", "pass:"+pass).CombinedOutput(); err != nil {
		t.Fatalf("openssl pkcs12: %v %s", err, out)
	}
	shimDir := filepath.Join(w.dir, "shim")
	os.MkdirAll(shimDir, 0o755)
	real, _ := exec.LookPath("osslsigncode")
	argvLog := filepath.Join(w.dir, "osslsigncode-argv.log")
	os.WriteFile(filepath.Join(shimDir, "osslsigncode"), []byte("#!/bin/sh\nprintf '%s\\n' \"$*\" >> '"+argvLog+"'\nexec '"+real+"' \"$@\"\n"), 0o755)
	spaced := filepath.Join(w.dir, "heidi tray.msi")
	data, _ := os.ReadFile(msi)
	os.WriteFile(spaced, data, 0o644)
	passFile := filepath.Join(w.dir, "p12 password")
	os.WriteFile(passFile, []byte(pass+"\n"), 0o600)
	for _, run := range []struct {
		args []string
		env  string
	}{
		{[]string{"--pkcs12", p12, "--password-file", passFile, msi}, ""},
		{[]string{"--pkcs12", p12, spaced}, "HEIDI_TRAY_SIGN_PASSWORD=" + pass},
	} {
		cmd := exec.Command("./packaging/windows/sign.sh", run.args...)
		cmd.Env = append(os.Environ(), "PATH="+shimDir+":"+os.Getenv("PATH"), run.env)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("sign.sh %v: %v %s", run.args, err, out)
		}
	}
	if argv, _ := os.ReadFile(argvLog); len(argv) == 0 || bytes.Contains(argv, []byte(pass)) {
		t.Fatalf("osslsigncode's command lines (the password must not be there):\n%s", argv)
	}
	// A wrong password fails, and leaves the file as it was.
	cmd := exec.Command("./packaging/windows/sign.sh", "--pkcs12", p12, spaced)
	cmd.Env = append(os.Environ(), "HEIDI_TRAY_SIGN_PASSWORD=wrong")
	before, _ := os.ReadFile(spaced)
	if out, err := cmd.CombinedOutput(); err == nil {
		t.Fatalf("a wrong password signed: %s", out)
	}
	if after, _ := os.ReadFile(spaced); !bytes.Equal(before, after) {
		t.Fatal("a failed signing changed the file")
	}
	for _, f := range []string{w.exe, msi, spaced} {
		if out, err := exec.Command("osslsigncode", "verify", "-CAfile", cert, "-in", f).CombinedOutput(); err != nil {
			t.Fatalf("verify %s: %v\n%s", f, err, out)
		}
		data, _ := os.ReadFile(f)
		data[len(data)/2] ^= 0xff
		bad := f + ".tampered"
		os.WriteFile(bad, data, 0o644)
		if out, err := exec.Command("osslsigncode", "verify", "-CAfile", cert, "-in", bad).CombinedOutput(); err == nil {
			t.Fatalf("a tampered %s verified:\n%s", filepath.Base(f), out)
		}
	}
	// The signed exe still runs.
	if r := w.wine("", w.exe, "version"); r.code != 0 || !strings.HasPrefix(r.stdout, "heidi-tray ") {
		t.Fatalf("signed exe: %+v", r)
	}
	_ = fmt.Sprint
}
