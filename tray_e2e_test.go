//go:build linux

package main

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
	"github.com/godbus/dbus/v5/prop"
)

// watcher is a minimal org.kde.StatusNotifierWatcher, the tray host's half of
// the protocol, so the real tray registers and can be driven over D-Bus.
type watcher struct {
	mu    sync.Mutex
	items []string
	conn  *dbus.Conn
	props *prop.Properties
}

func (w *watcher) RegisterStatusNotifierItem(sender dbus.Sender, service string) *dbus.Error {
	item := string(sender) + service
	if !strings.HasPrefix(service, "/") {
		item = service
	}
	w.mu.Lock()
	w.items = append(w.items, item)
	w.mu.Unlock()
	return nil
}

func (w *watcher) RegisterStatusNotifierHost(string) *dbus.Error { return nil }

func (w *watcher) item() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.items) == 0 {
		return ""
	}
	return w.items[len(w.items)-1]
}

func startWatcher(t *testing.T) (*watcher, *dbus.Conn) {
	t.Helper()
	conn, err := dbus.Connect(os.Getenv("DBUS_SESSION_BUS_ADDRESS"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	w := &watcher{conn: conn}
	conn.Export(w, "/StatusNotifierWatcher", "org.kde.StatusNotifierWatcher")
	w.props, err = prop.Export(conn, "/StatusNotifierWatcher", prop.Map{"org.kde.StatusNotifierWatcher": {
		"RegisteredStatusNotifierItems":  {Value: []string{}, Emit: prop.EmitTrue},
		"IsStatusNotifierHostRegistered": {Value: true, Emit: prop.EmitTrue},
		"ProtocolVersion":                {Value: int32(0), Emit: prop.EmitTrue},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if r, err := conn.RequestName("org.kde.StatusNotifierWatcher", dbus.NameFlagDoNotQueue); err != nil || r != dbus.RequestNameReplyPrimaryOwner {
		t.Fatalf("owning the watcher name: %v %v", r, err)
	}
	t.Cleanup(func() { conn.ReleaseName("org.kde.StatusNotifierWatcher") })
	return w, conn
}

type menuItem struct {
	id      int32
	label   string
	enabled bool
}

func menu(t *testing.T, conn *dbus.Conn, svc string) []menuItem {
	t.Helper()
	var rev uint32
	var layout struct {
		ID       int32
		Props    map[string]dbus.Variant
		Children []dbus.Variant
	}
	call := conn.Object(svc, "/StatusNotifierItem/menu").Call("com.canonical.dbusmenu.GetLayout", 0, int32(0), int32(-1), []string{})
	if err := call.Store(&rev, &layout); err != nil {
		t.Fatalf("GetLayout: %v", err)
	}
	var out []menuItem
	for _, c := range layout.Children {
		vals := c.Value().([]any)
		it := menuItem{id: vals[0].(int32), enabled: true}
		props := vals[1].(map[string]dbus.Variant)
		if l, ok := props["label"]; ok {
			it.label = l.Value().(string)
		}
		if e, ok := props["enabled"]; ok {
			it.enabled = e.Value().(bool)
		}
		out = append(out, it)
	}
	return out
}

func findItem(t *testing.T, items []menuItem, label string) menuItem {
	t.Helper()
	for _, it := range items {
		if it.label == label {
			return it
		}
	}
	t.Fatalf("no menu item %q in %+v", label, items)
	return menuItem{}
}

func itemProp(t *testing.T, conn *dbus.Conn, svc, name string) any {
	t.Helper()
	v, err := conn.Object(svc, "/StatusNotifierItem").GetProperty("org.kde.StatusNotifierItem." + name)
	if err != nil {
		t.Fatalf("property %s: %v", name, err)
	}
	return v.Value()
}

func eventually(t *testing.T, what string, f func() bool) {
	t.Helper()
	for i := 0; i < 200; i++ {
		if f() {
			return
		}
		time.Sleep(25 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}

func TestTrayMenuOverDBus(t *testing.T) {
	w := newWorld(t)
	w.cli("", "key", "delete", "--region", "AU")
	wt, conn := startWatcher(t)
	tray := w.startTray()
	eventually(t, "the tray to register with the watcher", func() bool { return wt.item() != "" })
	svc := strings.SplitN(wt.item(), "/", 2)[0]

	title := func() string { return itemProp(t, conn, svc, "Title").(string) }
	eventually(t, "the needs-set-up title", func() bool { return title() == "Heidi — API key missing for AU" })
	// systray sets the title and the icon in separate calls: wait for both.
	eventually(t, "the 64-pixel icon", func() bool {
		pix := itemProp(t, conn, svc, "IconPixmap").([][]any)
		return len(pix) == 1 && pix[0][0].(int32) == 64
	})
	items := menu(t, conn, svc)
	if open := findItem(t, items, "Open Heidi"); open.enabled {
		t.Fatal("Open Heidi is enabled before any clinician launched")
	}
	findItem(t, items, "API key missing for AU")
	quit := findItem(t, items, "Quit heidi-tray")

	// A launch makes the tray ready and "Open Heidi" usable.
	w.setKey("AU")
	if r := w.cli("", "open", "--email", "dr.a@clinic.example", "--user-id", "42"); r.code != 0 {
		t.Fatal(r)
	}
	eventually(t, "the ready title", func() bool { return title() == "Heidi — Ready" })
	// The tray applies state on its own loop: wait for it, do not race it.
	eventually(t, "Open Heidi to be enabled after a launch", func() bool { return findItem(t, menu(t, conn, svc), "Open Heidi").enabled })
	open := findItem(t, menu(t, conn, svc), "Open Heidi")
	click := func(id int32) {
		if err := conn.Object(svc, "/StatusNotifierItem/menu").Call("com.canonical.dbusmenu.Event", 0, id, "clicked", dbus.MakeVariant(int32(0)), uint32(0)).Err; err != nil {
			t.Fatal(err)
		}
	}
	click(open.id)
	urls := w.waitBrowser(2)
	if !launchURL.MatchString(urls[1]) {
		t.Fatalf("Open Heidi opened %q", urls[1])
	}
	items = menu(t, conn, svc)
	click(findItem(t, items, "Set up…").id)
	if urls := w.waitBrowser(3); !launchURL.MatchString(urls[2]) {
		t.Fatalf("Set up… opened %q", urls[2])
	}
	findItem(t, items, "heidi-tray 0.1.0-dev · AU · production")
	autostart := filepath.Join(w.dir, "config", "autostart", "heidi-tray.desktop")
	click(findItem(t, items, "Start at login").id)
	eventually(t, "the autostart entry", func() bool { _, err := os.Stat(autostart); return err == nil })
	click(findItem(t, items, "Start at login").id)
	eventually(t, "the autostart entry to go", func() bool { _, err := os.Stat(autostart); return os.IsNotExist(err) })
	click(quit.id)
	if !w.waitExit(tray, 5*time.Second) {
		t.Fatal("Quit did not stop the tray")
	}
}
