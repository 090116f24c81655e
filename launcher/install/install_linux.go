package install

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/heidi-tray/heidi-tray/launcher/paths"
)

const (
	desktopID = "heidi-tray.desktop"
	mimeType  = "x-scheme-handler/heidi-tray"
)

func dataHome() string   { return paths.XDGHome("XDG_DATA_HOME", ".local", "share") }
func configHome() string { return paths.XDGHome("XDG_CONFIG_HOME", ".config") }

// desktopQuote quotes an Exec argument per the Desktop Entry spec, and only
// when it must: xdg-open's generic fallback does not understand quotes.
func desktopQuote(s string) string {
	if !strings.ContainsAny(s, " \t\n\"'\\><~|&;$*?#()`%=") {
		return s
	}
	r := strings.NewReplacer(`\`, `\\\\`, `"`, `\\"`, "`", "\\\\`", `$`, `\\$`, `%`, `%%`)
	return `"` + r.Replace(s) + `"`
}

// Paths of the files Install writes.
func HandlerFile() string   { return filepath.Join(dataHome(), "applications", desktopID) }
func AutostartFile() string { return filepath.Join(configHome(), "autostart", desktopID) }

// Install registers the URL handler and, with autostart, start at login for exe.
func Install(exe string, autostart bool) (Report, error) {
	var r Report
	handler := fmt.Sprintf(`[Desktop Entry]
Type=Application
Name=Heidi (heidi-tray)
Comment=Opens Heidi for the clinician and patient your EMR names
Exec=%s url -- %%u
MimeType=%s;
NoDisplay=true
Terminal=false
`, desktopQuote(exe), mimeType)
	if err := writeFile(&r, HandlerFile(), []byte(handler), 0o644); err != nil {
		return r, err
	}
	if err := setDefault(&r); err != nil {
		return r, err
	}
	if db, err := exec.LookPath("update-desktop-database"); err == nil {
		exec.Command(db, filepath.Dir(HandlerFile())).Run()
	}
	if !autostart {
		r.add("skipped: start at login (the autostart setting is false)")
		return r, removeFile(&r, AutostartFile())
	}
	if err := writeFile(&r, AutostartFile(), autostartEntry(exe), 0o644); err != nil {
		return r, err
	}
	return r, nil
}

func autostartEntry(exe string) []byte {
	return []byte(fmt.Sprintf(`[Desktop Entry]
Type=Application
Name=heidi-tray
Comment=Heidi for your desktop EMR
Exec=%s run
Terminal=false
X-GNOME-Autostart-enabled=true
`, desktopQuote(exe)))
}

// SetAutostart turns start at login on or off (the tray's check box).
func SetAutostart(exe string, enable bool) (Report, error) {
	var r Report
	if enable {
		return r, writeFile(&r, AutostartFile(), autostartEntry(exe), 0o644)
	}
	return r, removeFile(&r, AutostartFile())
}

func setDefault(r *Report) error {
	// Our own line in the user's mimeapps.list, not merely "found by scanning":
	// another app that claims the scheme must not win.
	list := filepath.Join(configHome(), "mimeapps.list")
	if isDefaultIn(list) {
		r.add("unchanged: %s handler is %s (%s)", mimeType, desktopID, list)
		return nil
	}
	xm, err := exec.LookPath("xdg-mime")
	if err != nil {
		return fmt.Errorf("xdg-mime is not installed (Debian package xdg-utils); it registers the URL handler")
	}
	if out, err := exec.Command(xm, "default", desktopID, mimeType).CombinedOutput(); err != nil {
		return fmt.Errorf("xdg-mime default: %v: %s", err, strings.TrimSpace(string(out)))
	}
	r.add("registered: %s as the handler of heidi-tray:// URLs (xdg-mime, %s)", desktopID, list)
	return nil
}

// isDefaultIn reports whether list names heidi-tray first for the scheme.
func isDefaultIn(list string) bool {
	data, err := os.ReadFile(list)
	if err != nil {
		return false
	}
	section := ""
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "[") {
			section = line
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if ok && section == "[Default Applications]" && strings.TrimSpace(k) == mimeType {
			first, _, _ := strings.Cut(strings.TrimSpace(v), ";")
			return first == desktopID
		}
	}
	return false
}

// Uninstall removes the handler, its association and the autostart entry.
func Uninstall() (Report, error) {
	var r Report
	if err := removeFile(&r, HandlerFile()); err != nil {
		return r, err
	}
	if err := removeFile(&r, AutostartFile()); err != nil {
		return r, err
	}
	for _, list := range []string{filepath.Join(configHome(), "mimeapps.list"), filepath.Join(dataHome(), "applications", "mimeapps.list")} {
		if err := dropAssociation(&r, list); err != nil {
			return r, err
		}
	}
	if db, err := exec.LookPath("update-desktop-database"); err == nil {
		exec.Command(db, filepath.Dir(HandlerFile())).Run()
	}
	return r, nil
}

// dropAssociation removes heidi-tray's lines from a mimeapps.list (xdg-mime
// can add associations but not remove them).
func dropAssociation(r *Report, path string) error {
	data, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return err
	}
	var out strings.Builder
	changed := false
	sc := bufio.NewScanner(strings.NewReader(string(data)))
	for sc.Scan() {
		line := sc.Text()
		if k, v, ok := strings.Cut(line, "="); ok && strings.TrimSpace(k) == mimeType {
			var keep []string
			for _, id := range strings.Split(v, ";") {
				if id != "" && id != desktopID {
					keep = append(keep, id)
				}
			}
			changed = true
			if len(keep) == 0 {
				continue
			}
			line = mimeType + "=" + strings.Join(keep, ";") + ";"
		}
		out.WriteString(line + "\n")
	}
	if !changed {
		return nil
	}
	if err := os.WriteFile(path, []byte(out.String()), 0o644); err != nil {
		return err
	}
	r.add("removed: the heidi-tray:// association from %s", path)
	return nil
}

// AutostartEnabled reports whether start at login is set up.
func AutostartEnabled() bool {
	_, err := os.Stat(AutostartFile())
	return err == nil
}

// Registered reports whether heidi-tray is the scheme's handler (doctor).
func Registered() bool {
	out, err := exec.Command("xdg-mime", "query", "default", mimeType).Output()
	return err == nil && strings.TrimSpace(string(out)) == desktopID
}
