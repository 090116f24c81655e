// Package plists writes heidi-tray's macOS property lists — the app bundle's
// Info.plist and the per-user LaunchAgent — with the same library that reads
// managed preferences (howett.net/plist). Platform-neutral, so the bundle
// can be assembled, and both files checked, on Linux.
package plists

import (
	"strings"

	"howett.net/plist"
)

// BundleID identifies heidi-tray to macOS (Info.plist, LaunchAgent, managed
// preferences domain).
const BundleID = "org.heidi-tray.heidi-tray"

// MinimumMacOS is the oldest macOS heidi-tray runs on: Go 1.26's minimum.
// The build sets MACOSX_DEPLOYMENT_TARGET to the same (packaging/macos/ci.sh).
const MinimumMacOS = "12.0"

// numeric is the leading 1.2.3 of a version like 1.2.3-rc1+g1234abc:
// CFBundleVersion and CFBundleShortVersionString take numbers and dots only.
func numeric(version string) string {
	end := strings.IndexFunc(version, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
	if end < 0 {
		end = len(version)
	}
	return strings.TrimRight(version[:end], ".")
}

func encode(v any) []byte {
	b, err := plist.MarshalIndent(v, plist.XMLFormat, "\t")
	if err != nil {
		panic("plists: " + err.Error()) // only maps of strings, bools and lists: a programming error
	}
	return append(b, '\n')
}

// InfoPlist is the app bundle's Info.plist: an agent app (no Dock icon) that
// owns the heidi-tray:// scheme.
func InfoPlist(version string) []byte {
	return encode(map[string]any{
		"CFBundleIdentifier":            BundleID,
		"CFBundleName":                  "heidi-tray",
		"CFBundleDisplayName":           "heidi-tray",
		"CFBundleExecutable":            "heidi-tray",
		"CFBundleIconFile":              "heidi-tray",
		"CFBundlePackageType":           "APPL",
		"CFBundleShortVersionString":    numeric(version),
		"CFBundleVersion":               numeric(version),
		"CFBundleInfoDictionaryVersion": "6.0",
		"LSMinimumSystemVersion":        MinimumMacOS,
		"LSUIElement":                   true,
		"NSHighResolutionCapable":       true,
		"CFBundleURLTypes": []any{map[string]any{
			"CFBundleURLName":    BundleID,
			"CFBundleURLSchemes": []string{"heidi-tray"},
		}},
	})
}

// LaunchAgent starts exe at login. heidi-tray does not 'launchctl load' it:
// that would start a second tray now; it takes effect at the next login.
// (A signed build could use SMAppService instead.)
func LaunchAgent(exe string) []byte {
	return encode(map[string]any{
		"Label":                  BundleID,
		"ProgramArguments":       []string{exe, "run"},
		"RunAtLoad":              true,
		"ProcessType":            "Interactive",
		"LimitLoadToSessionType": "Aqua",
	})
}
