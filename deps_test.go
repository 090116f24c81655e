package main

// What the shipped binaries link, and which package may import which: the
// rules live in docs/architecture.md, and these tests read them from there.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/heidi-tray/heidi-tray/launcher/testrig"
)

const module = "github.com/heidi-tray/heidi-tray"

type listed struct {
	ImportPath string
	Imports    []string
	Deps       []string
	Module     *struct{ Path string }
}

// goList runs 'go list -deps -json' for patterns under GOOS.
func goList(t *testing.T, goos string, cgo bool, patterns ...string) map[string]listed {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		testrig.Missing(t, "the go tool", err)
	}
	cmd := exec.Command(goBin, append([]string{"list", "-deps", "-json=ImportPath,Imports,Deps,Module"}, patterns...)...)
	cgoEnv := "CGO_ENABLED=0"
	if cgo {
		cgoEnv = "CGO_ENABLED=1"
	}
	cmd.Env = append(os.Environ(), "GOOS="+goos, "GOARCH=amd64", cgoEnv, "GOFLAGS=-mod=mod")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list (%s): %v\n%s", goos, err, stderr.String())
	}
	pkgs := map[string]listed{}
	dec := json.NewDecoder(bytes.NewReader(out))
	for dec.More() {
		var p listed
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		pkgs[p.ImportPath] = p
	}
	return pkgs
}

// shippedModules are the third-party modules each OS's binary may link.
var shippedModules = map[string][]string{
	"linux": {"fyne.io/systray", "github.com/godbus/dbus/v5", "github.com/gofrs/flock", "github.com/pelletier/go-toml/v2",
		"github.com/pkg/browser", "github.com/zalando/go-keyring", "golang.org/x/sync", "golang.org/x/sys", "golang.org/x/term", "howett.net/plist",
		// Kerberos: the tray's sign-in to the clinic token service and 'heidi-tray serve' (docs/token-service.md).
		"github.com/jcmturner/gokrb5/v8", "github.com/jcmturner/gofork", "github.com/jcmturner/aescts/v2", "github.com/jcmturner/dnsutils/v2",
		"github.com/jcmturner/goidentity/v6", "github.com/jcmturner/rpc/v2", "github.com/hashicorp/go-uuid", "golang.org/x/crypto", "golang.org/x/net",
		// X11: the tray owns the clipboard to mark a note sensitive (launcher/clipboard).
		"github.com/jezek/xgb"},
	"windows": {"fyne.io/systray", "github.com/alexbrainman/sspi", "github.com/godbus/dbus/v5", "github.com/Microsoft/go-winio", "github.com/danieljoos/wincred", "github.com/gofrs/flock",
		"github.com/pelletier/go-toml/v2", "github.com/pkg/browser", "github.com/zalando/go-keyring", "golang.org/x/sync",
		"golang.org/x/sys", "golang.org/x/term", "howett.net/plist"},
	"darwin": {"fyne.io/systray", "github.com/godbus/dbus/v5", "github.com/gofrs/flock", "github.com/keybase/go-keychain", "github.com/pelletier/go-toml/v2",
		"github.com/pkg/browser", "github.com/zalando/go-keyring", "golang.org/x/sync", "golang.org/x/sys", "golang.org/x/term", "howett.net/plist",
		// Kerberos: the tray's sign-in to the clinic token service and 'heidi-tray serve' (docs/token-service.md).
		"github.com/jcmturner/gokrb5/v8", "github.com/jcmturner/gofork", "github.com/jcmturner/aescts/v2", "github.com/jcmturner/dnsutils/v2",
		"github.com/jcmturner/goidentity/v6", "github.com/jcmturner/rpc/v2", "github.com/hashicorp/go-uuid", "golang.org/x/crypto", "golang.org/x/net"},
}

// forbidden are packages no shipped binary may link, whatever the OS.
var forbidden = []string{"text/template", "html/template", "net/http/httptest",
	"github.com/chromedp/", "go.uber.org/goleak", module + "/launcher/testrig", module + "/bench"}

func TestShippedDependencies(t *testing.T) {
	for goos, allowed := range shippedModules {
		t.Run(goos, func(t *testing.T) {
			pkgs := goList(t, goos, goos == "darwin", ".")
			for path, p := range pkgs {
				for _, f := range forbidden {
					if path == f || strings.HasSuffix(f, "/") && strings.HasPrefix(path, f) || strings.HasPrefix(path, f+"/") {
						t.Errorf("%s: the binary links %s", goos, path)
					}
				}
				// github.com/jezek/xgb v1.1.1 keeps its own test helpers in
				// testingTools.go, so its package imports testing (unused:
				// nothing runs testing.Init). It alone may.
				if slices.Contains(p.Imports, "testing") && path != "github.com/jezek/xgb" {
					t.Errorf("%s: %s imports testing", goos, path)
				}
				if p.Module == nil || p.Module.Path == module {
					continue // the standard library, or our own code
				}
				if !slices.Contains(allowed, p.Module.Path) {
					t.Errorf("%s: the binary links %s from module %s, which is not on this OS's list in deps_test.go", goos, path, p.Module.Path)
				}
				// fyne.io/systray v1.12.2 links D-Bus everywhere (its
				// systray_notifier_unix.go has no build constraint: "_unix" is
				// not a GOOS suffix), unused off Linux. Nothing else may.
				if goos != "linux" && p.Module.Path != "fyne.io/systray" && p.Module.Path != "github.com/godbus/dbus/v5" && slices.ContainsFunc(p.Imports, func(i string) bool {
					return strings.HasPrefix(i, "github.com/godbus/")
				}) {
					t.Errorf("%s: %s links D-Bus, which only Linux has", goos, path)
				}
			}
			// The Mac app keeps keys through the Security framework (keystore/backend_darwin.go).
			if _, ok := pkgs["github.com/keybase/go-keychain"]; goos == "darwin" && !ok {
				t.Errorf("darwin: the cgo build does not link github.com/keybase/go-keychain")
			}
		})
	}
}

type rule struct {
	pkg          string
	neverDepends []string
	neverImports []string
}

// importRules reads the "Import rules" table of docs/architecture.md.
func importRules(t *testing.T) []rule {
	t.Helper()
	f, err := os.Open(filepath.Join("docs", "architecture.md"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	code := regexp.MustCompile("`([^`]+)`")
	var rules []rule
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "## ") {
			in = line == "## Import rules"
			continue
		}
		if !in || !strings.HasPrefix(line, "| `") {
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		if len(cells) != 3 {
			t.Fatalf("docs/architecture.md: an import rule needs 3 columns: %s", line)
		}
		names := func(cell string) (out []string) {
			for _, m := range code.FindAllStringSubmatch(cell, -1) {
				out = append(out, m[1])
			}
			return out
		}
		r := rule{pkg: names(cells[0])[0], neverDepends: names(cells[1]), neverImports: names(cells[2])}
		rules = append(rules, r)
	}
	if len(rules) < 5 {
		t.Fatalf("docs/architecture.md: found %d import rules; is the table still under '## Import rules'?", len(rules))
	}
	return rules
}

// qualify turns a name from the doc into an import path: names that start
// with one of this module's top-level folders are ours; the rest (net/http)
// are the standard library's. "x/..." stands for a whole tree.
func qualify(name string) string {
	top, _, _ := strings.Cut(name, "/")
	if slices.Contains([]string{"launcher", "keystore", "tray", "assets", "bench"}, top) {
		return module + "/" + name
	}
	return name
}

func matches(path, name string) bool {
	q := qualify(name)
	if tree, ok := strings.CutSuffix(q, "/..."); ok {
		return path == tree || strings.HasPrefix(path, tree+"/")
	}
	return path == q
}

func TestImportRules(t *testing.T) {
	rules := importRules(t)
	seen := map[string]bool{}
	for _, goos := range []string{"linux", "windows", "darwin"} {
		pkgs := goList(t, goos, false, "./...")
		for _, r := range rules {
			p, ok := pkgs[qualify(r.pkg)]
			if !ok {
				continue // not built for this OS (keystore/sessionbus off Linux)
			}
			seen[r.pkg] = true
			for _, d := range p.Deps {
				for _, n := range r.neverDepends {
					if matches(d, n) {
						t.Errorf("%s (%s): %s depends on %s (rule: never depends on %s)", goos, r.pkg, r.pkg, strings.TrimPrefix(d, module+"/"), n)
					}
				}
			}
			for _, i := range p.Imports {
				for _, n := range r.neverImports {
					if matches(i, n) {
						t.Errorf("%s (%s): %s imports %s (rule: never imports %s)", goos, r.pkg, r.pkg, strings.TrimPrefix(i, module+"/"), n)
					}
				}
			}
		}
	}
	for _, r := range rules {
		if !seen[r.pkg] {
			t.Errorf("docs/architecture.md names %s, which is not a package on any OS", r.pkg)
		}
	}
}

// The rules must be able to fail: a package that imports a forbidden one
// is caught by the same matching.
func TestImportRuleMatching(t *testing.T) {
	for _, c := range []struct {
		path, name string
		want       bool
	}{
		{module + "/launcher/ipc", "launcher/ipc", true},
		{module + "/launcher/ipc", "launcher/...", true},
		{module + "/launcher", "launcher/...", true},
		{module + "/launcher/ipcx", "launcher/ipc", false},
		{"net/http", "net/http", true},
		{"net/http/httptrace", "net/http", false},
		{module + "/tray", "tray", true},
	} {
		if got := matches(c.path, c.name); got != c.want {
			t.Errorf("matches(%q, %q) = %v", c.path, c.name, got)
		}
	}
}
