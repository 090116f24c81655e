//go:build linux

package main

// Fleet deployment under Wine: upgrades and removal with the tray running,
// the per-machine MSI, live policy over the named pipe, the session's end,
// and every command of docs/windows.md's deployment guide.

import (
	"encoding/json"
	"errors"
	"fmt"
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

func needMSITools(t *testing.T) {
	t.Helper()
	for p, pkg := range map[string]string{"wixl": "wixl", "msiinfo": "msitools", "msibuild": "msitools"} {
		testrig.Need(t, p, pkg)
	}
}

// release builds heidi-tray.exe claiming version v, and its MSI.
func (w *wineWorld) release(v string, machine bool) (exe, msi string) {
	w.t.Helper()
	dir := filepath.Join(w.dir, "rel-"+v)
	os.MkdirAll(dir, 0o755)
	exe = filepath.Join(dir, "heidi-tray.exe")
	if _, err := os.Stat(exe); err != nil {
		w.build(exe, ".", "-H=windowsgui -X main.version="+v)
	}
	name := "heidi-tray-" + v + ".msi"
	args := []string{v, exe}
	if machine {
		name = "heidi-tray-" + v + "-machine.msi"
		args = append([]string{"--machine"}, args...)
	}
	msi = filepath.Join(dir, name)
	if out, err := exec.Command("./packaging/windows/build-msi.sh", append(args, msi)...).CombinedOutput(); err != nil {
		w.t.Fatalf("build-msi %v: %v\n%s", args, err, out)
	}
	return exe, msi
}

type trayStatus struct {
	Running bool   `json:"running"`
	Version string `json:"version"`
	PID     int    `json:"pid"`
}

func (w *wineWorld) trayStatus() trayStatus {
	w.t.Helper()
	var st trayStatus
	json.Unmarshal([]byte(w.wine("", w.exe, "status", "--json").stdout), &st)
	return st
}

// waitTray waits until the tray answers with version v ("" = not running).
func (w *wineWorld) waitTray(v string) trayStatus {
	w.t.Helper()
	var st trayStatus
	for i := 0; i < 80; i++ {
		if st = w.trayStatus(); st.Running == (v != "") && st.Version == v {
			return st
		}
		time.Sleep(250 * time.Millisecond)
	}
	w.t.Fatalf("want the tray at %q, have %+v", v, st)
	return st
}

// regValue reads one registry value as reg query prints it ("" if absent).
// An empty name is the key's default value.
func (w *wineWorld) regValue(key, name string) string {
	args, shown := []string{"query", key, "/v", name}, name
	if name == "" {
		args, shown = []string{"query", key, "/ve"}, "(Default)"
	}
	r := w.wine("", append([]string{"reg"}, args...)...)
	m := regexp.MustCompile(`(?m)^\s+` + regexp.QuoteMeta(shown) + `\s+REG_\w+\s+(.*?)\s*$`).FindStringSubmatch(r.stdout)
	if m == nil {
		return ""
	}
	return m[1]
}

// products lists the product codes installed under an UpgradeCode (the
// registry's packed GUIDs), for the user or the machine.
func (w *wineWorld) products(upgradeCode string, machine bool) []string {
	root := `HKCU\Software\Microsoft\Installer\UpgradeCodes\`
	if machine {
		root = `HKLM\Software\Classes\Installer\UpgradeCodes\`
	}
	r := w.wine("", "reg", "query", root+packGUID(upgradeCode))
	return regexp.MustCompile(`(?m)^\s+([0-9A-F]{32})\s`).FindAllString(r.stdout, -1)
}

// packGUID is Windows Installer's packed form of a GUID.
func packGUID(g string) string {
	g = strings.Trim(g, "{}")
	p := strings.Split(g, "-")
	rev := func(s string) string {
		b := []byte(s)
		for i, j := 0, len(b)-1; i < j; i, j = i+1, j-1 {
			b[i], b[j] = b[j], b[i]
		}
		return string(b)
	}
	swap := func(s string) string {
		var out strings.Builder
		for i := 0; i+1 < len(s); i += 2 {
			out.WriteByte(s[i+1])
			out.WriteByte(s[i])
		}
		return out.String()
	}
	return strings.ToUpper(rev(p[0]) + rev(p[1]) + rev(p[2]) + swap(p[3]) + swap(p[4]))
}

const (
	userUpgradeCode    = "8D4F2E6B-3A1C-4B7E-9F2D-5C6A7B8E9F01"
	machineUpgradeCode = "2C7E9A41-5B3D-4F6E-8A1B-9D0C3E5F7A12"
)

// The fleet's normal day: install, the tray runs, an upgrade arrives while
// it runs, then removal. Exit 0 each time, one product, the new version
// running, nothing left behind.
func TestUpgradeWithTheTrayRunningUnderWine(t *testing.T) {
	needMSITools(t)
	w := newWineWorld(t)
	_, rc := w.release("1.2.3-rc.1", false)
	_, rel := w.release("1.2.3", false)
	exePath := regexp.MustCompile(`(?i)^C:\\users\\[^\\]+\\AppData\\Local\\Programs\\heidi-tray\\$`)

	if r := w.wine("", "msiexec", "/i", testrig.WinPath(rc), "/qn", "/norestart"); r.code != 0 {
		t.Fatalf("installing the rc: %+v", r)
	}
	defer w.wine("", "msiexec", "/x", testrig.WinPath(rel), "/qn") // on failure: leave the prefix clean
	first := w.waitTray("1.2.3-rc.1")                              // the MSI started it
	if dir := w.regValue(`HKCU\Software\heidi-tray`, "InstallDir"); !exePath.MatchString(dir) {
		t.Fatalf("InstallDir %q", dir)
	}
	if r := w.wine("", "msiexec", "/i", testrig.WinPath(rel), "/qn", "/norestart"); r.code != 0 {
		t.Fatalf("upgrading with the tray running: exit %d (3010 = files in use), %+v", r.code, r)
	}
	second := w.waitTray("1.2.3")
	if second.PID == first.PID {
		t.Fatal("the old tray is still the one running")
	}
	if v := w.regValue(`HKCU\Software\heidi-tray`, "Version"); v != "1.2.3" {
		t.Fatalf("registry Version %q", v)
	}
	if p := w.products(userUpgradeCode, false); len(p) != 1 {
		t.Fatalf("products after the upgrade: %v", p)
	}
	// A rebuild of the same version (a new ProductCode) replaces it.
	_, again := w.release("1.2.3", false) // wixl gives every build a new ProductCode
	if r := w.wine("", "msiexec", "/i", testrig.WinPath(again), "/qn", "/norestart"); r.code != 0 {
		t.Fatalf("same-version rebuild: %+v", r)
	}
	if p := w.products(userUpgradeCode, false); len(p) != 1 {
		t.Fatalf("a same-version rebuild installed beside the first: %v", p)
	}
	w.waitTray("1.2.3")
	// Going back is refused.
	if r := w.wine("", "msiexec", "/i", testrig.WinPath(rc), "/qn", "/norestart"); r.code == 0 {
		t.Fatal("a downgrade to the rc installed")
	}
	if p := w.products(userUpgradeCode, false); len(p) != 1 {
		t.Fatalf("products after a refused downgrade: %v", p)
	}
	if r := w.wine("", "msiexec", "/x", testrig.WinPath(again), "/qn", "/norestart"); r.code != 0 {
		t.Fatalf("uninstalling with the tray running: %+v", r)
	}
	w.waitTray("")
	home := filepath.Join(w.prefix, "drive_c", "users")
	if left, _ := filepath.Glob(filepath.Join(home, "*", "AppData", "Local", "Programs", "heidi-tray", "*")); len(left) != 0 {
		t.Fatalf("left after uninstall: %v", left)
	}
	if p := w.products(userUpgradeCode, false); len(p) != 0 {
		t.Fatalf("products after uninstall: %v", p)
	}
}

// The per-machine MSI: Program Files, HKLM registrations, the Event Log
// source; AUTOSTART=0 leaves start at login out.
func TestMachineMSIUnderWine(t *testing.T) {
	needMSITools(t)
	w := newWineWorld(t)
	_, msi := w.release("2.0.0", true)
	if sum, _ := exec.Command("msiinfo", "suminfo", msi).Output(); !strings.Contains(string(sum), "Source: 2") {
		t.Fatalf("the machine MSI should be per-machine (Word Count 2 = compressed, elevated):\n%s", sum)
	}
	if r := w.wine("", "msiexec", "/i", testrig.WinPath(msi), "/qn", "/norestart", "ALLUSERS=1", "AUTOSTART=0"); r.code != 0 {
		t.Fatalf("msiexec /i machine: %+v", r)
	}
	defer w.wine("", "msiexec", "/x", testrig.WinPath(msi), "/qn") // on failure: leave the prefix clean
	pf := filepath.Join(w.prefix, "drive_c", "Program Files", "heidi-tray", "heidi-tray.exe")
	if _, err := os.Stat(pf); err != nil {
		t.Fatalf("not in Program Files: %v", err)
	}
	if v := w.regValue(`HKLM\Software\heidi-tray`, "Version"); v != "2.0.0" {
		t.Fatalf("HKLM Version %q", v)
	}
	if cmd := w.regValue(`HKLM\Software\Classes\heidi-tray\shell\open\command`, ""); cmd != `"C:\Program Files\heidi-tray\heidi-tray.exe" url -- "%1"` {
		t.Fatalf("machine-wide scheme %q", cmd)
	}
	if run := w.regValue(`HKLM\Software\Microsoft\Windows\CurrentVersion\Run`, "heidi-tray"); run != "" {
		t.Fatalf("AUTOSTART=0 still registered start at login: %q", run)
	}
	if f := w.regValue(`HKLM\SYSTEM\CurrentControlSet\Services\EventLog\Application\heidi-tray`, "EventMessageFile"); !strings.Contains(f, "EventCreate.exe") {
		t.Fatalf("Event Log source %q", f)
	}
	w.waitTray("2.0.0") // the installing user's tray
	if p := w.products(machineUpgradeCode, true); len(p) != 1 {
		t.Fatalf("machine products %v", p)
	}
	if r := w.wine("", "msiexec", "/x", testrig.WinPath(msi), "/qn", "/norestart"); r.code != 0 {
		t.Fatalf("msiexec /x machine: %+v", r)
	}
	w.waitTray("")
	if _, err := os.Stat(pf); !os.IsNotExist(err) {
		t.Fatalf("the exe is left in Program Files: %v", err)
	}
	if v := w.regValue(`HKLM\Software\Classes\heidi-tray\shell\open\command`, ""); v != "" {
		t.Fatalf("the scheme is left: %q", v)
	}
}

// emrOpen launches over the named pipe as an EMR does: no heidi-tray client
// code that reads policy, just HTTP on the pipe (launcher/ipc's helper).
func (w *wineWorld) emrOpen(helper, email string) map[string]string {
	w.t.Helper()
	env := w.env
	w.env = append(append([]string{}, env...), "HEIDI_TRAY_EMR_EMAIL="+email)
	r := w.wine("", helper, "-test.run", "^TestEMRPipeClient$", "-test.v")
	w.env = env
	m := regexp.MustCompile(`EMR-RESULT (\{.*\})`).FindStringSubmatch(r.stdout)
	if m == nil {
		w.t.Fatalf("the EMR helper printed no result: %+v", r)
	}
	var out map[string]string
	json.Unmarshal([]byte(m[1]), &out)
	return out
}

// Group Policy changed under a running tray: the kill switch refuses the
// next pipe launch within seconds, allowed_email_domains too; an unknown
// policy value from a newer ADMX leaves launches working.
func TestLivePolicyUnderWine(t *testing.T) {
	w := newWineWorld(t)
	helper := filepath.Join(w.dir, "emr.exe")
	cmd := exec.Command("go", "test", "-c", "-o", helper, "./launcher/ipc")
	cmd.Env = append(os.Environ(), "GOOS=windows", "GOARCH=amd64", "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building the EMR helper: %v\n%s", err, out)
	}
	stub := filepath.Join(w.dir, "browser-stub.exe")
	w.build(stub, "./bench/stub", "")
	fake := fakeheidi.New(e2eKey)
	srv := httptest.NewServer(fake)
	defer srv.Close()
	w.env = append(w.env, "HEIDI_TRAY_API_BASE="+srv.URL+fakeheidi.BasePath,
		"HEIDI_TRAY_BROWSER="+testrig.WinPath(stub), "BENCH_BROWSER_LOG="+testrig.WinPath(filepath.Join(w.dir, "browser.log")))
	const policy = `HKLM\Software\Policies\heidi-tray`
	// Group Policy's parent key exists on Windows; Wine's prefix lacks it.
	w.wine("", "reg", "add", `HKLM\Software\Policies`, "/f")
	w.wine("", "reg", "add", `HKCU\Software\Policies`, "/f")
	defer w.wine("", "reg", "delete", policy, "/f")
	if r := w.wine(e2eKey+"\r\n", w.exe, "key", "set", "--region", "AU"); r.code != 0 {
		t.Fatalf("key set: %+v", r)
	}
	defer w.wine("", w.exe, "key", "delete", "--region", "AU")
	tray := exec.Command("timeout", "300", "wine", w.exe, "run")
	tray.Env = w.env
	if err := tray.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { tray.Process.Kill(); tray.Wait() }()
	w.waitTray("0.1.0-dev")
	defer w.wine("", w.exe, "quit")

	if got := w.emrOpen(helper, "dr.w@clinic.example"); got["status"] != "opened" {
		t.Fatalf("launch before the policy: %v", got)
	}
	w.wine("", "reg", "add", policy, "/v", "future_policy_from_a_newer_admx", "/t", "REG_SZ", "/d", "x", "/f")
	if r := w.wine("", "reg", "add", policy, "/v", "disabled", "/t", "REG_DWORD", "/d", "1", "/f"); r.code != 0 {
		t.Fatalf("reg add: %+v", r)
	}
	set := time.Now()
	var got map[string]string
	for time.Since(set) < 10*time.Second {
		if got = w.emrOpen(helper, "dr.w@clinic.example"); got["code"] == "disabled" {
			break
		}
	}
	if got["code"] != "disabled" || !strings.Contains(got["message"], `HKLM\Software\Policies\heidi-tray`) {
		t.Fatalf("the kill switch did not reach the pipe within 10 s: %v", got)
	}
	t.Logf("the kill switch refused a pipe launch %s after it was set", time.Since(set).Round(time.Millisecond))
	// A tray started now (the Run key at login) refuses to start, and says
	// so in its log: it has no console.
	if r := w.wine("", w.exe, "run"); r.code != 1 || !strings.Contains(r.stderr, "turned off") {
		t.Fatalf("a tray started under the kill switch: %+v", r)
	}
	if data, _ := os.ReadFile(filepath.Join(w.localAppData(t), "heidi-tray", "logs", "heidi-tray.log")); !regexp.MustCompile(`"msg":"heidi-tray could not start","err":"heidi-tray is turned off[^"]*HKLM`).Match(data) {
		t.Fatalf("the refused start is not in the log:\n%s", data)
	}
	if st := w.wine("", w.exe, "status"); !strings.Contains(st.stdout, "Turned off by your administrator") {
		t.Fatalf("tray state: %+v", st)
	}
	w.wine("", "reg", "delete", policy, "/v", "disabled", "/f")
	w.wine("", "reg", "add", policy, "/v", "allowed_email_domains", "/t", "REG_SZ", "/d", "other.example", "/f")
	for set = time.Now(); time.Since(set) < 10*time.Second; {
		if got = w.emrOpen(helper, "dr.w@clinic.example"); got["code"] == "domain_not_allowed" {
			break
		}
	}
	if got["code"] != "domain_not_allowed" {
		t.Fatalf("allowed_email_domains did not reach the pipe: %v", got)
	}
	// The unknown value is still there: launches for an allowed domain work.
	if got = w.emrOpen(helper, "dr.o@other.example"); got["status"] != "opened" {
		t.Fatalf("an unknown policy value broke launches: %v", got)
	}
	logData, _ := os.ReadFile(filepath.Join(w.localAppData(t), "heidi-tray", "logs", "heidi-tray.log"))
	for _, want := range []string{`"trigger":"policy"`, "heidi-tray is turned off", "allowed email domains", "future_policy_from_a_newer_admx"} {
		if !strings.Contains(string(logData), want) {
			t.Errorf("the log lacks %q:\n%s", want, logData)
		}
	}
	if strings.Contains(string(logData), e2eKey) {
		t.Fatal("the key reached the log")
	}
}

func (w *wineWorld) localAppData(t *testing.T) string {
	m, _ := filepath.Glob(filepath.Join(w.prefix, "drive_c", "users", "*", "AppData", "Local"))
	for _, d := range m {
		if !strings.Contains(d, "Public") {
			return d
		}
	}
	t.Fatal("no AppData\\Local in the Wine prefix")
	return ""
}

// trayOnDesktop starts the Windows tray on a display (Xvfb) and a Wine
// desktop of its own: windows need one, and earlier tests' programs made
// the prefix's default desktop without a display. It returns the desktop
// argument (for programs that must share it) and the tray's log file.
func trayOnDesktop(t *testing.T, w *wineWorld, name string) (desktop, logFile string) {
	display := testrig.Xvfb(t)
	env := w.env
	w.env = append(append([]string{}, env...), "DISPLAY="+display)
	t.Cleanup(func() { w.env = env })
	desktop = "/desktop=" + name + ",320x200"
	tray := exec.Command("timeout", "300", "wine", "explorer", desktop, w.exe, "run")
	tray.Env = w.env
	if err := tray.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tray.Process.Kill(); tray.Wait() })
	t.Cleanup(func() { w.wine("", w.exe, "quit") })
	w.waitTray("0.1.0-dev")
	logFile = filepath.Join(w.localAppData(t), "heidi-tray", "logs", "heidi-tray.log")
	logData, _ := os.ReadFile(logFile)
	// This run's start-up lines: after the previous run's "started".
	i := strings.LastIndex(string(logData), "heidi-tray started")
	if i < 0 {
		t.Fatalf("the tray logged no start:\n%s", logData)
	}
	if strings.Contains(string(logData[i:]), "no window for session-end messages") { // made after "started"
		t.Fatalf("the tray made no window for session-end messages:\n%s", logData)
	}
	thisRun := string(logData[strings.LastIndex(string(logData[:i]), "heidi-tray started")+1 : i])
	if strings.Contains(thisRun, "session unlocks will not prefetch") { // before "started"
		t.Fatalf("the tray did not watch for session unlocks:\n%s", logData)
	}
	return desktop, logFile
}

// waitSignedOutAndStopped waits for the log line why and a logout after
// it, then for the tray to be gone.
func waitSignedOutAndStopped(t *testing.T, w *wineWorld, logFile, why string) {
	var logData []byte
	done := func() bool {
		logData, _ = os.ReadFile(logFile)
		i := strings.LastIndex(string(logData), why)
		return i >= 0 && strings.Contains(string(logData[i:]), `"msg":"logout"`)
	}
	for deadline := time.Now().Add(20 * time.Second); !done(); time.Sleep(200 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no sign-out after %q:\n%s", why, logData)
		}
	}
	w.waitTray("")
}

// Logoff: Wine's "wineboot --end-session" sends WM_QUERYENDSESSION and
// WM_ENDSESSION to every top-level window, as Windows does at logoff and
// Restart Manager does for an installer: the tray signs out first, then
// stops (or Windows, here wineboot, ends it once WM_ENDSESSION returned).
func TestSessionEndSignsOutUnderWine(t *testing.T) {
	w := newWineWorld(t)
	desktop, logFile := trayOnDesktop(t, w, "heidi-session-test")
	if r := w.wine("", "explorer", desktop, "wineboot", "--end-session"); r.code != 0 {
		t.Fatalf("wineboot --end-session: %+v", r)
	}
	waitSignedOutAndStopped(t, w, logFile, "the Windows session is ending; signing out of Heidi")
}

// taskkill without /F posts WM_CLOSE to the tray's top-level windows, as a
// script stopping it politely would: the tray quits cleanly (before, its
// hidden windows were destroyed and it ran on without them). The session
// window usually gets there first and signs out; the icon's own window may
// start the shutdown instead, which signs every page out too.
func TestTaskkillClosesTheTrayUnderWine(t *testing.T) {
	w := newWineWorld(t)
	desktop, logFile := trayOnDesktop(t, w, "heidi-taskkill-test")
	before, _ := os.ReadFile(logFile)
	if r := w.wine("", "explorer", desktop, "taskkill", "/im", "heidi-tray.exe"); r.code != 0 {
		t.Fatalf("taskkill: %+v", r)
	}
	w.waitTray("")
	logData, _ := os.ReadFile(logFile)
	if after := string(logData[len(before):]); !strings.Contains(after, `"msg":"heidi-tray stopped"`) {
		t.Fatalf("the tray did not stop cleanly after taskkill:\n%s", after)
	}
}

// guideCommands are the commands of docs/windows.md's ```bat blocks, in
// the order they appear (comments and blank lines dropped).
func guideCommands(t *testing.T) []string {
	data, err := os.ReadFile("docs/windows.md")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, block := range regexp.MustCompile("(?s)```bat\n(.*?)```").FindAllStringSubmatch(string(data), -1) {
		for _, l := range strings.Split(block[1], "\n") {
			l = strings.TrimSpace(l)
			if l == "" || strings.HasPrefix(l, "::") || strings.HasPrefix(strings.ToLower(l), "rem ") {
				continue
			}
			out = append(out, l)
		}
	}
	return out
}

// Every command the deployment guide gives IT runs, in order, under Wine,
// in a folder with the release's files, and exits 0 — the way the
// URL-signing test vector is read from the docs, so the guide cannot rot.
func TestDeploymentGuideUnderWine(t *testing.T) {
	needMSITools(t)
	cmds := guideCommands(t)
	guide := strings.Join(cmds, "\n")
	for _, want := range []string{
		`msiexec /i heidi-tray-1.2.3.msi /qn /norestart /l*v`, `msiexec /x heidi-tray-1.2.3.msi /qn /norestart`,
		`AUTOSTART=0`, `PURGE=1`, `msiexec /i heidi-tray-1.2.3-machine.msi /qn /norestart ALLUSERS=1 /l*v`,
		`msiexec /x heidi-tray-1.2.3-machine.msi`, `reg query HKLM\Software\heidi-tray /v Version`,
		`reg query HKCU\Software\heidi-tray /v Version`, `heidi-tray.admx`, `reg add HKLM\Software\Policies\heidi-tray /v disabled`,
	} {
		if !strings.Contains(guide, want) {
			t.Errorf("docs/windows.md's deployment guide no longer has %q", want)
		}
	}
	w := newWineWorld(t)
	_, perUser := w.release("1.2.3", false)
	_, perMachine := w.release("1.2.3", true)
	dir := filepath.Join(w.dir, "guide")
	os.MkdirAll(filepath.Join(dir, "en-US"), 0o755)
	for src, dst := range map[string]string{
		perUser: "heidi-tray-1.2.3.msi", perMachine: "heidi-tray-1.2.3-machine.msi",
		"packaging/windows/heidi-tray.admx": "heidi-tray.admx", "packaging/windows/en-US/heidi-tray.adml": "en-US/heidi-tray.adml",
	} {
		data, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, dst), data, 0o644)
	}
	defer w.wine("", "msiexec", "/x", testrig.WinPath(perUser), "/qn")
	defer w.wine("", "msiexec", "/x", testrig.WinPath(perMachine), "/qn")
	defer w.wine("", "reg", "delete", `HKLM\Software\Policies\heidi-tray`, "/f")
	for i, c := range cmds {
		if strings.HasSuffix(c, " status") {
			w.waitTray("1.2.3") // the MSI started it a moment ago
		}
		bat := filepath.Join(dir, fmt.Sprintf("step%02d.bat", i))
		os.WriteFile(bat, []byte("@echo off\r\n"+c+"\r\nexit /b %errorlevel%\r\n"), 0o644)
		cmd := exec.Command("timeout", "180", "wine", "cmd", "/c", filepath.Base(bat))
		cmd.Dir, cmd.Env = dir, w.env
		cmd.WaitDelay = 5 * time.Second // the tray the MSI starts must not hold our pipes
		out, err := cmd.CombinedOutput()
		if errors.Is(err, exec.ErrWaitDelay) {
			err = nil
		}
		if err != nil {
			t.Fatalf("docs/windows.md: %s\nfailed: %v\n%s", c, err, out)
		}
		if strings.Contains(c, "/v Version") && !strings.Contains(string(out), "1.2.3") {
			t.Fatalf("%s printed no version:\n%s", c, out)
		}
		if strings.HasSuffix(c, " status") && !strings.Contains(string(out), "heidi-tray 1.2.3 is running") {
			t.Fatalf("%s:\n%s", c, out)
		}
		if strings.Contains(c, "PURGE=1") { // the user's settings, state and logs are gone
			if _, err := os.Stat(filepath.Join(w.localAppData(t), "heidi-tray")); !os.IsNotExist(err) {
				t.Fatalf("%s left %%LocalAppData%%\\heidi-tray: %v", c, err)
			}
		}
		t.Logf("ok: %s", c)
	}
	if p := w.products(userUpgradeCode, false); len(p) != 0 {
		t.Fatalf("the guide's commands left the per-user product installed: %v", p)
	}
	if p := w.products(machineUpgradeCode, true); len(p) != 0 {
		t.Fatalf("the guide's commands left the per-machine product installed: %v", p)
	}
	if _, err := os.Stat(filepath.Join(w.prefix, "drive_c", "windows", "PolicyDefinitions", "heidi-tray.admx")); err != nil {
		t.Fatalf("the ADMX was not copied: %v", err)
	}
}

// MSI versions order as the releases do (docs/windows.md, "Versions"), and
// what cannot be encoded is refused with the reason.
func TestMSIVersionScheme(t *testing.T) {
	order := []string{"0.9.64", "1.2.3-dev", "1.2.3-dev+7", "1.2.3-dev.8", "1.2.3-alpha.1", "1.2.3-beta.2",
		"1.2.3-rc.1", "1.2.3-rc.2", "1.2.3", "1.2.4-dev", "1.3.0-rc.1", "2.0.0"}
	var prev [3]int
	for i, v := range order {
		out, err := exec.Command("./packaging/windows/msi-version.sh", v).Output()
		if err != nil {
			t.Fatalf("%s: %v", v, err)
		}
		var cur [3]int
		if n, _ := fmt.Sscanf(strings.TrimSpace(string(out)), "%d.%d.%d", &cur[0], &cur[1], &cur[2]); n != 3 || cur[0] > 255 || cur[1] > 255 || cur[2] > 65535 {
			t.Fatalf("%s → %q is not an MSI version", v, out)
		}
		if i > 0 && !(cur[0] > prev[0] || cur[0] == prev[0] && (cur[1] > prev[1] || cur[1] == prev[1] && cur[2] > prev[2])) {
			t.Fatalf("%s (%v) does not order after %s (%v)", v, cur, order[i-1], prev)
		}
		prev = cur
	}
	if out, _ := exec.Command("./packaging/windows/msi-version.sh", "1.2.3+build.5").Output(); strings.TrimSpace(string(out)) != "1.2.3999" {
		t.Fatalf("a release's build metadata changed its MSI version: %s", out)
	}
	for v, why := range map[string]string{"1.2.65": "at most 64", "1.2.3-pre": "unknown pre-release", "1.2": "MAJOR.MINOR.PATCH",
		"256.0.0": "at most 255", "1.2.3-rc.200": "at most 199"} {
		out, err := exec.Command("./packaging/windows/msi-version.sh", v).CombinedOutput()
		if err == nil || !strings.Contains(string(out), why) {
			t.Errorf("%s: want a refusal mentioning %q, got %v %s", v, why, err, out)
		}
	}
}
