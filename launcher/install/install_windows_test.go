package install

import (
	"strings"
	"testing"

	"golang.org/x/sys/windows/registry"
)

func value(t *testing.T, path, name string) (string, bool) {
	t.Helper()
	k, err := registry.OpenKey(registry.CURRENT_USER, path, registry.QUERY_VALUE)
	if err != nil {
		return "", false
	}
	defer k.Close()
	v, _, err := k.GetStringValue(name)
	return v, err == nil
}

func TestRegistryInstallAndUninstall(t *testing.T) {
	exe := `C:\Users\dr\AppData\Local\Programs\heidi-tray\heidi-tray.exe`
	Uninstall()
	rep, err := Install(exe, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep) == 0 || !strings.HasPrefix(rep[0], "wrote:") {
		t.Fatalf("report %q", rep)
	}
	if v, _ := value(t, commandKey, ""); v != `"`+exe+`" url -- "%1"` {
		t.Fatalf("command %q", v)
	}
	if _, ok := value(t, classesKey, "URL Protocol"); !ok {
		t.Fatal("URL Protocol missing")
	}
	if v, _ := value(t, runKey, valueName); v != `"`+exe+`" run` {
		t.Fatalf("Run %q", v)
	}
	if !Registered() || !AutostartEnabled() {
		t.Fatal("not registered")
	}
	again, _ := Install(exe, true)
	for _, line := range again {
		if !strings.HasPrefix(line, "unchanged:") {
			t.Fatalf("second install changed %q", line)
		}
	}
	// The user disables heidi-tray in Task Manager: Run stays, StartupApproved says no.
	k, _, _ := registry.CreateKey(registry.CURRENT_USER, approvedKey, registry.SET_VALUE)
	k.SetBinaryValue(valueName, []byte{3, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8})
	k.Close()
	if AutostartEnabled() {
		t.Fatal("a disabled StartupApproved entry was ignored")
	}
	if _, err := SetAutostart(exe, true); err != nil || !AutostartEnabled() {
		t.Fatalf("enabling did not reset StartupApproved: %v", err)
	}
	if _, err := Uninstall(); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{classesKey, commandKey} {
		if k, err := registry.OpenKey(registry.CURRENT_USER, p, registry.QUERY_VALUE); err == nil {
			k.Close()
			t.Fatalf(`HKCU\%s left behind`, p)
		}
	}
	if _, ok := value(t, runKey, valueName); ok || Registered() || AutostartEnabled() {
		t.Fatal("Run value left behind")
	}
	if rep, _ := Uninstall(); len(rep) != 0 {
		t.Fatalf("second uninstall changed %q", rep)
	}
}

// The per-machine MSI registers the scheme and start at login in HKLM:
// they count as set up for the user, and the user cannot turn off what
// IT set for every user.
func TestMachineWideRegistrations(t *testing.T) {
	Uninstall()
	exe := `C:\Program Files\heidi-tray\heidi-tray.exe`
	for path, kv := range map[string][2]string{commandKey: {"", Command(exe)}, runKey: {valueName, runCommand(exe)}} {
		k, _, err := registry.CreateKey(registry.LOCAL_MACHINE, path, registry.SET_VALUE)
		if err != nil {
			t.Fatal(err)
		}
		k.SetStringValue(kv[0], kv[1])
		k.Close()
	}
	defer registry.DeleteKey(registry.LOCAL_MACHINE, commandKey)
	defer func() {
		if k, err := registry.OpenKey(registry.LOCAL_MACHINE, runKey, registry.SET_VALUE); err == nil {
			k.DeleteValue(valueName)
			k.Close()
		}
	}()
	if !Registered() || !AutostartEnabled() {
		t.Fatalf("HKLM registrations not seen: scheme %v, autostart %v", Registered(), AutostartEnabled())
	}
	if _, err := SetAutostart(exe, false); err == nil || !strings.Contains(err.Error(), "per-machine") {
		t.Fatalf("turning off a machine-wide start at login: %v", err)
	}
}
