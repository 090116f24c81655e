package install

import (
	"errors"
	"fmt"

	"golang.org/x/sys/windows/registry"
)

// Per-user registrations: no admin rights needed, and HKCU classes win over
// HKLM ones in HKEY_CLASSES_ROOT.
const (
	classesKey  = `Software\Classes\heidi-tray`
	commandKey  = classesKey + `\shell\open\command`
	iconKey     = classesKey + `\DefaultIcon`
	runKey      = `Software\Microsoft\Windows\CurrentVersion\Run`
	approvedKey = `Software\Microsoft\Windows\CurrentVersion\Explorer\StartupApproved\Run`
	valueName   = "heidi-tray"
)

// Command is the URL handler's command line: one quoted "%1" after a fixed
// subcommand and "--", so a URL can never become a flag.
func Command(exe string) string { return `"` + exe + `" url -- "%1"` }

func runCommand(exe string) string { return `"` + exe + `" run` }

func setString(r *Report, path, name, value string) error {
	k, _, err := registry.CreateKey(registry.CURRENT_USER, path, registry.SET_VALUE|registry.QUERY_VALUE)
	if err != nil {
		return fmt.Errorf(`HKCU\%s: %w`, path, err)
	}
	defer k.Close()
	if old, _, err := k.GetStringValue(name); err == nil && old == value {
		r.add(`unchanged: HKCU\%s [%s]`, path, show(name))
		return nil
	}
	if err := k.SetStringValue(name, value); err != nil {
		return fmt.Errorf(`HKCU\%s: %w`, path, err)
	}
	r.add(`wrote: HKCU\%s [%s] = %s`, path, show(name), value)
	return nil
}

func show(name string) string {
	if name == "" {
		return "(Default)"
	}
	return name
}

// Install registers the URL scheme and, with autostart, start at login for exe.
func Install(exe string, autostart bool) (Report, error) {
	var r Report
	steps := []struct{ path, name, value string }{
		{classesKey, "", "URL:heidi-tray Protocol"},
		{classesKey, "URL Protocol", ""},
		{iconKey, "", `"` + exe + `",0`},
		{commandKey, "", Command(exe)},
	}
	for _, s := range steps {
		if err := setString(&r, s.path, s.name, s.value); err != nil {
			return r, err
		}
	}
	if !autostart {
		r.add("skipped: start at login (the autostart setting is false)")
	}
	rep, err := SetAutostart(exe, autostart)
	return append(r, rep...), err
}

// Uninstall removes the scheme, the Run value and its StartupApproved entry.
func Uninstall() (Report, error) {
	var r Report
	for _, path := range []string{commandKey, classesKey + `\shell\open`, classesKey + `\shell`, iconKey, classesKey} {
		err := registry.DeleteKey(registry.CURRENT_USER, path)
		switch {
		case err == nil:
			r.add(`removed: HKCU\%s`, path)
		case errors.Is(err, registry.ErrNotExist):
		default:
			return r, fmt.Errorf(`HKCU\%s: %w`, path, err)
		}
	}
	for _, path := range []string{runKey, approvedKey} {
		if err := deleteValue(&r, path, valueName); err != nil {
			return r, err
		}
	}
	return r, nil
}

func deleteValue(r *Report, path, name string) error {
	k, err := registry.OpenKey(registry.CURRENT_USER, path, registry.SET_VALUE)
	if errors.Is(err, registry.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer k.Close()
	err = k.DeleteValue(name)
	switch {
	case err == nil:
		r.add(`removed: HKCU\%s [%s]`, path, name)
	case errors.Is(err, registry.ErrNotExist):
	default:
		return err
	}
	return nil
}

// SetAutostart writes or removes the Run value. Enabling also clears a
// "disabled" mark the user set in Task Manager, which Windows keeps in
// StartupApproved and would otherwise honour over the Run value.
func SetAutostart(exe string, enable bool) (Report, error) {
	var r Report
	if !enable {
		if hasString(registry.LOCAL_MACHINE, runKey, valueName) {
			return r, errors.New(`start at login is set up for every user by the per-machine installation (HKLM\` + runKey + `); IT can turn it off with the MSI's AUTOSTART=0 or the Autostart policy`)
		}
		err := deleteValue(&r, runKey, valueName)
		return r, err
	}
	if err := setString(&r, runKey, valueName, runCommand(exe)); err != nil {
		return r, err
	}
	if !approved() {
		k, _, err := registry.CreateKey(registry.CURRENT_USER, approvedKey, registry.SET_VALUE)
		if err != nil {
			return r, err
		}
		defer k.Close()
		if err := k.SetBinaryValue(valueName, []byte{2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}); err != nil {
			return r, err
		}
		r.add(`wrote: HKCU\%s [%s] = enabled`, approvedKey, valueName)
	}
	return r, nil
}

// approved reads StartupApproved: no entry, or an even first byte, means
// enabled; Task Manager writes 03 (odd) with a timestamp when disabling.
func approved() bool {
	k, err := registry.OpenKey(registry.CURRENT_USER, approvedKey, registry.QUERY_VALUE)
	if err != nil {
		return true
	}
	defer k.Close()
	v, _, err := k.GetBinaryValue(valueName)
	if err != nil || len(v) == 0 {
		return true
	}
	return v[0]%2 == 0
}

// AutostartEnabled: the Run value is there and the user has not disabled it.
// The per-machine MSI's HKLM Run value counts too.
func AutostartEnabled() bool {
	if hasString(registry.LOCAL_MACHINE, runKey, valueName) {
		return true
	}
	return hasString(registry.CURRENT_USER, runKey, valueName) && approved()
}

func hasString(root registry.Key, path, name string) bool {
	k, err := registry.OpenKey(root, path, registry.QUERY_VALUE)
	if err != nil {
		return false
	}
	defer k.Close()
	v, _, err := k.GetStringValue(name)
	return err == nil && (name != "" || v != "")
}

// Registered reports whether heidi-tray:// opens heidi-tray.
// The per-machine MSI registers it for every user in HKLM.
func Registered() bool {
	return hasString(registry.CURRENT_USER, commandKey, "") || hasString(registry.LOCAL_MACHINE, commandKey, "")
}
