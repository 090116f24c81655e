//go:build linux

package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"howett.net/plist"

	"github.com/heidi-tray/heidi-tray/launcher/install/plists"
	"github.com/heidi-tray/heidi-tray/launcher/testrig"
)

// The macOS bundle, assembled on Linux from a GOOS=darwin build of every
// package without cgo (the tray's Cocoa files are left out by their tags).
func TestMacOSBundle(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "heidi-tray-darwin")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Env = append(os.Environ(), "GOOS=darwin", "GOARCH=arm64", "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("GOOS=darwin build: %v\n%s", err, out)
	}
	script := "./packaging/macos/build-app.sh"
	if out, err := exec.Command(script, bin, dir, "--sign-later").CombinedOutput(); err == nil || !strings.Contains(string(out), "refusing to build an unsigned bundle") {
		t.Fatalf("the script must refuse to build an unsigned bundle by default: %v %s", err, out)
	}
	cmd := exec.Command(script, bin, dir, "--unsigned")
	cmd.Env = append(os.Environ(), "VERSION=1.2.3") // a darwin binary cannot report its version on Linux
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "UNSIGNED") {
		t.Fatalf("build-app.sh: %v\n%s", err, out)
	}
	app := filepath.Join(dir, "heidi-tray.app", "Contents")
	data, err := os.ReadFile(filepath.Join(app, "Info.plist"))
	if err != nil {
		t.Fatal(err)
	}
	var info map[string]any
	if format, err := plist.Unmarshal(data, &info); err != nil || format != plist.XMLFormat {
		t.Fatalf("Info.plist is not an XML plist: %v", err)
	}
	if info["CFBundleIdentifier"] != "org.heidi-tray.heidi-tray" || info["CFBundleShortVersionString"] != "1.2.3" || info["LSUIElement"] != true || info["CFBundleExecutable"] != "heidi-tray" || info["LSMinimumSystemVersion"] != plists.MinimumMacOS {
		t.Fatalf("Info.plist %v", info)
	}
	if types, _ := info["CFBundleURLTypes"].([]any); len(types) != 1 || fmt.Sprint(types[0].(map[string]any)["CFBundleURLSchemes"]) != "[heidi-tray]" {
		t.Fatalf("CFBundleURLTypes does not declare heidi-tray: %v", info["CFBundleURLTypes"])
	}
	exe, _ := os.ReadFile(filepath.Join(app, "MacOS", "heidi-tray"))
	if !bytes.HasPrefix(exe, []byte{0xcf, 0xfa, 0xed, 0xfe}) {
		t.Fatal("the bundle's executable is not a 64-bit Mach-O")
	}
	icns, _ := os.ReadFile(filepath.Join(app, "Resources", "heidi-tray.icns"))
	if !bytes.HasPrefix(icns, []byte("icns")) {
		t.Fatal("no icns icon")
	}
}

// The Mac CI is one script (the workflow only runs it), and that script
// builds for the minimum macOS that Info.plist declares, checks it in the
// binary, and passes shellcheck (make check runs it too).
func TestMacCIScript(t *testing.T) {
	wf, err := os.ReadFile(".github/workflows/macos.yml")
	if err != nil {
		t.Fatal(err)
	}
	var runs []string
	for _, line := range strings.Split(string(wf), "\n") {
		if l := strings.TrimSpace(line); strings.HasPrefix(l, "run:") {
			runs = append(runs, strings.TrimSpace(strings.TrimPrefix(l, "run:")))
		}
	}
	if len(runs) != 1 || runs[0] != "packaging/macos/ci.sh" || !strings.Contains(string(wf), "runs-on: macos-14") {
		t.Fatalf("the workflow should run only packaging/macos/ci.sh on macos-14; it runs %q", runs)
	}
	script, err := os.ReadFile("packaging/macos/ci.sh")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"\nMIN=" + plists.MinimumMacOS + "\n", `export MACOSX_DEPLOYMENT_TARGET="$MIN"`, "LC_BUILD_VERSION", "lsregister", `open "heidi-tray://`, "ditto -c -k"} {
		if !strings.Contains(string(script), want) {
			t.Errorf("ci.sh lacks %q", want)
		}
	}
	// The smoke test reads its evidence from the log: every message it waits
	// for must still be logged somewhere.
	var sources strings.Builder
	for _, dir := range []string{"launcher", "launcher/app", "launcher/cli"} {
		files, _ := filepath.Glob(filepath.Join(dir, "*.go"))
		for _, f := range files {
			b, _ := os.ReadFile(f)
			sources.Write(b)
		}
	}
	msgs := regexp.MustCompile(`'"msg":"([^"]+)"'`).FindAllStringSubmatch(string(script), -1)
	if len(msgs) < 5 {
		t.Fatalf("ci.sh waits for %d log messages", len(msgs))
	}
	for _, m := range msgs {
		if !strings.Contains(sources.String(), `"`+m[1]+`"`) {
			t.Errorf("ci.sh waits for the log message %q, which nothing logs", m[1])
		}
	}
	sc := testrig.Need(t, "shellcheck", "shellcheck")
	if out, err := exec.Command(sc, "packaging/macos/ci.sh", "packaging/macos/build-app.sh").CombinedOutput(); err != nil {
		t.Fatalf("shellcheck: %v\n%s", err, out)
	}
	// The script refuses to run anywhere but on a Mac, before touching anything.
	out, err := exec.Command("sh", "packaging/macos/ci.sh").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "run this on a Mac") {
		t.Fatalf("ci.sh on Linux: %v %s", err, out)
	}
}
