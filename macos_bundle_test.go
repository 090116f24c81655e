//go:build linux

package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"howett.net/plist"
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
	if info["CFBundleIdentifier"] != "org.heidi-tray.heidi-tray" || info["CFBundleShortVersionString"] != "1.2.3" || info["LSUIElement"] != true || info["CFBundleExecutable"] != "heidi-tray" {
		t.Fatalf("Info.plist %v", info)
	}
	if !strings.Contains(string(data), "<string>heidi-tray</string>\n\t\t\t</array>") {
		t.Fatal("CFBundleURLTypes does not declare heidi-tray")
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
