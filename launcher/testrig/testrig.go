// Package testrig starts the real parts heidi-tray's tests run against — a
// private D-Bus session bus, gnome-keyring's Secret Service, headless
// Chromium — and stops them again. A test whose part is missing is skipped
// with a message that names it; under CI=true it fails instead, so a green CI
// always means the real parts ran. 'make test' installs them all.
package testrig

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// Missing skips (or under CI fails) a test for want of a real part. On macOS
// it always skips: 'make test' installs the rig on Debian (and runs the
// Windows tests under Wine), while a hosted Mac runner, which sets CI=true
// too, cannot provide parts like root (packaging/macos/ci.sh).
func Missing(t testing.TB, part string, why any) {
	t.Helper()
	if os.Getenv("CI") == "true" && runtime.GOOS != "darwin" {
		t.Fatalf("real part missing under CI: %s: %v (make test installs it)", part, why)
	}
	t.Skipf("skipping: needs %s (%v); 'make test' installs it", part, why)
}

// Need returns the path of a program, or skips/fails naming it.
func Need(t testing.TB, program, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(program)
	if err != nil {
		Missing(t, program+" (Debian package "+pkg+")", "not on PATH")
	}
	return p
}

// Bus is a private D-Bus session bus owned by the test process.
type Bus struct {
	Address string
	Dir     string
}

var (
	busOnce sync.Once
	bus     *Bus
	busErr  error
	owned   []*exec.Cmd
	ownedMu sync.Mutex
)

// Own registers a process to be killed by Cleanup.
func Own(cmd *exec.Cmd) {
	ownedMu.Lock()
	owned = append(owned, cmd)
	ownedMu.Unlock()
}

// Cleanup stops every process the rig started; call it from TestMain.
func Cleanup() {
	StopWine()
	ownedMu.Lock()
	defer ownedMu.Unlock()
	for i := len(owned) - 1; i >= 0; i-- {
		stop(owned[i])
	}
	owned = nil
	if bus != nil {
		os.RemoveAll(bus.Dir)
	}
}

func stop(cmd *exec.Cmd) {
	if cmd.Process == nil {
		return
	}
	cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(3 * time.Second):
		cmd.Process.Kill()
		<-done
	}
}

// Main runs a package's tests and then stops the rig's processes.
func Main(m *testing.M) {
	code := m.Run()
	Cleanup()
	os.Exit(code)
}

// StartBus starts a private session bus with the given config ("" means
// Debian's session.conf) and returns its address. The caller owns it.
func StartBus(dir, configFile string) (string, *exec.Cmd, error) {
	if _, err := exec.LookPath("dbus-daemon"); err != nil {
		return "", nil, fmt.Errorf("dbus-daemon (package dbus-daemon): %w", err)
	}
	args := []string{"--nofork", "--print-address=1"}
	if configFile == "" {
		args = append(args, "--session")
	} else {
		args = append(args, "--config-file="+configFile)
	}
	args = append(args, "--address=unix:path="+filepath.Join(dir, "bus"))
	cmd := exec.Command("dbus-daemon", args...)
	cmd.Env = append(os.Environ(), "XDG_RUNTIME_DIR="+dir, "XDG_DATA_HOME="+filepath.Join(dir, "data"))
	out, err := cmd.StdoutPipe()
	if err != nil {
		return "", nil, err
	}
	if err := cmd.Start(); err != nil {
		return "", nil, fmt.Errorf("starting dbus-daemon: %w", err)
	}
	Own(cmd)
	line := make(chan string, 1)
	go func() {
		s, _ := bufio.NewReader(out).ReadString('\n')
		line <- strings.TrimSpace(s)
	}()
	select {
	case addr := <-line:
		if addr == "" {
			return "", nil, fmt.Errorf("dbus-daemon printed no address")
		}
		return addr, cmd, nil
	case <-time.After(10 * time.Second):
		return "", nil, fmt.Errorf("dbus-daemon did not start")
	}
}

// SessionBus starts a private session bus for this test, points
// DBUS_SESSION_BUS_ADDRESS at it (t.Setenv) and stops it at Cleanup;
// dbus-send must be there too. Stop what uses the bus before the test ends.
func SessionBus(t *testing.T) string {
	t.Helper()
	addr, daemon, err := StartBus(t.TempDir(), "")
	if err != nil {
		Missing(t, "dbus-daemon (Debian package dbus-daemon)", err)
	}
	t.Cleanup(func() { daemon.Process.Kill(); daemon.Wait() })
	Need(t, "dbus-send", "dbus-bin")
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", addr)
	return addr
}

// WaitListening waits up to d for something to accept TCP connections at
// addr; otherwise it fails, naming what and showing out (its output).
func WaitListening(t testing.TB, addr, what string, d time.Duration, out fmt.Stringer) {
	t.Helper()
	for deadline := time.Now().Add(d); ; time.Sleep(25 * time.Millisecond) {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not listen on %s:\n%s", what, addr, out)
		}
	}
}

// SyncBuffer collects a log or a child's output while the test reads it.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *SyncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// SecretService returns a private session bus on which gnome-keyring's
// Secret Service runs with an unlocked login collection. The process's
// DBUS_SESSION_BUS_ADDRESS is pointed at it (godbus keeps one session
// connection per process, so every test in the package shares this bus).
func SecretService(t testing.TB) *Bus {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("the Secret Service rig is Linux-only")
	}
	busOnce.Do(func() { bus, busErr = StartSecretService() })
	if busErr != nil {
		Missing(t, "a Secret Service (Debian packages dbus-daemon, gnome-keyring, libsecret-tools)", busErr)
	}
	return bus
}

// StartSecretService starts a private bus with an unlocked gnome-keyring and
// points this process at it; Cleanup stops both. (The benchmarks use it too.)
func StartSecretService() (*Bus, error) {
	for _, p := range []string{"gnome-keyring-daemon", "secret-tool", "gdbus"} {
		if _, err := exec.LookPath(p); err != nil {
			return nil, fmt.Errorf("%s is not installed", p)
		}
	}
	dir, err := os.MkdirTemp("", "htbus")
	if err != nil {
		return nil, err
	}
	b := &Bus{Dir: dir}
	addr, _, err := StartBus(dir, "")
	if err != nil {
		return nil, err
	}
	b.Address = addr
	kr := exec.Command("gnome-keyring-daemon", "--unlock", "--components=secrets", "--foreground")
	kr.Env = SetEnv(b.Env(os.Environ()), "XDG_RUNTIME_DIR="+dir)
	kr.Stdin = strings.NewReader("rig-password")
	if err := kr.Start(); err != nil {
		return nil, fmt.Errorf("starting gnome-keyring-daemon: %w", err)
	}
	Own(kr)
	for i := 0; ; i++ {
		out, _ := b.Command("gdbus", "call", "--session", "-d", "org.freedesktop.DBus", "-o", "/org/freedesktop/DBus",
			"-m", "org.freedesktop.DBus.NameHasOwner", "org.freedesktop.secrets").Output()
		if strings.Contains(string(out), "true") {
			break
		}
		if i > 100 {
			return nil, fmt.Errorf("gnome-keyring never took org.freedesktop.secrets")
		}
		time.Sleep(50 * time.Millisecond)
	}
	os.Setenv("DBUS_SESSION_BUS_ADDRESS", b.Address)
	return b, nil
}

// Env returns environ with this bus (and its private XDG dirs) in it.
func (b *Bus) Env(environ []string) []string {
	return SetEnv(environ, "DBUS_SESSION_BUS_ADDRESS="+b.Address, "XDG_DATA_HOME="+filepath.Join(b.Dir, "data"))
}

// Command runs a program on this bus.
func (b *Bus) Command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(name, args...)
	cmd.Env = b.Env(os.Environ())
	return cmd
}

// SetEnv returns environ with the given NAME=value pairs replacing any
// existing ones.
func SetEnv(environ []string, kvs ...string) []string {
	out := make([]string, 0, len(environ)+len(kvs))
	for _, e := range environ {
		name, _, _ := strings.Cut(e, "=")
		keep := true
		for _, kv := range kvs {
			if n, _, _ := strings.Cut(kv, "="); n == name {
				keep = false
			}
		}
		if keep {
			out = append(out, e)
		}
	}
	return append(out, kvs...)
}

// Unset returns environ without the named variables.
func Unset(environ []string, names ...string) []string {
	var out []string
	for _, e := range environ {
		name, _, _ := strings.Cut(e, "=")
		drop := false
		for _, n := range names {
			drop = drop || n == name
		}
		if !drop {
			out = append(out, e)
		}
	}
	return out
}

// Chromium returns the path of a headless-capable Chromium.
func Chromium(t testing.TB) string {
	t.Helper()
	for _, p := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	Missing(t, "headless Chromium (Debian package chromium)", "not on PATH")
	return ""
}

// ShortTempDir is a temp dir with a short path (Unix socket paths are
// limited to about 100 bytes), removed at the end of the test.
func ShortTempDir(t testing.TB) string {
	t.Helper()
	d, err := os.MkdirTemp("", "ht")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}

var (
	wineOnce   sync.Once
	winePrefix string
	wineErr    error
)

// Wine returns a prepared Wine prefix (made once per test process by
// .ci/wine-prefix, whose path is given relative to the caller's directory)
// and the environment to run Windows programs in it.
func Wine(t testing.TB, script string) (prefix string, env []string) {
	t.Helper()
	for _, p := range [][2]string{{"wine", "wine"}, {"wineserver", "wine64"}, {"x86_64-w64-mingw32-as", "binutils-mingw-w64-x86-64"}} {
		if _, err := exec.LookPath(p[0]); err != nil {
			Missing(t, p[0]+" (Debian package "+p[1]+")", "not on PATH")
		}
	}
	wineOnce.Do(func() {
		winePrefix, wineErr = os.MkdirTemp("", "htwine")
		if wineErr != nil {
			return
		}
		if out, err := exec.Command(script, winePrefix).CombinedOutput(); err != nil {
			wineErr = fmt.Errorf("%s: %v\n%s", script, err, out)
			return
		}
		// One persistent wineserver, owned by the rig: otherwise the first
		// wine call starts it, and it inherits (and holds open) that call's
		// output pipes for as long as any Windows program runs.
		ws := exec.Command("wineserver", "-f", "-p")
		ws.Env = SetEnv(os.Environ(), "WINEPREFIX="+winePrefix)
		if wineErr = ws.Start(); wineErr == nil {
			Own(ws)
		}
	})
	if wineErr != nil {
		Missing(t, "a Wine prefix", wineErr)
	}
	env = Unset(os.Environ(), "DISPLAY", "WAYLAND_DISPLAY")
	env = SetEnv(env, "WINEPREFIX="+winePrefix, "WINEDEBUG=-all", "WINEARCH=win64", "WINEDLLOVERRIDES=mscoree,mshtml=;winemenubuilder.exe=d")
	return winePrefix, env
}

// StopWine ends every Wine process of the prefix and removes it.
func StopWine() {
	if winePrefix == "" {
		return
	}
	cmd := exec.Command("wineserver", "-k")
	cmd.Env = SetEnv(os.Environ(), "WINEPREFIX="+winePrefix)
	cmd.Run()
	wait := exec.Command("timeout", "20", "wineserver", "-w")
	wait.Env = cmd.Env
	wait.Run()
	os.RemoveAll(winePrefix)
}

// WinPath is a Linux path as Wine's Z: drive sees it.
func WinPath(p string) string { return `Z:` + strings.ReplaceAll(p, "/", `\`) }

// Xvfb starts a virtual X display for the test (for the clipboard) and
// returns its DISPLAY value; Cleanup stops it.
func Xvfb(t testing.TB) string {
	t.Helper()
	Need(t, "Xvfb", "xvfb")
	for n := 90; n < 110; n++ {
		display := fmt.Sprintf(":%d", n)
		if _, err := os.Stat(fmt.Sprintf("/tmp/.X11-unix/X%d", n)); err == nil {
			continue
		}
		cmd := exec.Command("Xvfb", display, "-screen", "0", "320x200x24", "-nolisten", "tcp")
		if err := cmd.Start(); err != nil {
			Missing(t, "Xvfb", err)
		}
		Own(cmd)
		t.Cleanup(func() { stop(cmd) })
		for i := 0; i < 100; i++ {
			if _, err := os.Stat(fmt.Sprintf("/tmp/.X11-unix/X%d", n)); err == nil {
				return display
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Fatalf("Xvfb %s did not start", display)
	}
	t.Fatal("no free X display number")
	return ""
}
