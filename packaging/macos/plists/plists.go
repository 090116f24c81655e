// Package plists writes heidi-tray's macOS property lists: the app bundle's
// Info.plist and the per-user LaunchAgent. Platform-neutral, so the bundle
// can be assembled (and both files checked) on Linux.
package plists

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"strings"
)

// BundleID identifies heidi-tray to macOS (Info.plist, LaunchAgent, managed
// preferences domain).
const BundleID = "org.heidi-tray.heidi-tray"

func esc(s string) string {
	var b bytes.Buffer
	xml.EscapeText(&b, []byte(s))
	return b.String()
}

const header = `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
`

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

// InfoPlist is the app bundle's Info.plist: an agent app (no Dock icon) that
// owns the heidi-tray:// scheme.
func InfoPlist(version string) []byte {
	return []byte(fmt.Sprintf(header+`<dict>
	<key>CFBundleIdentifier</key>
	<string>%s</string>
	<key>CFBundleName</key>
	<string>heidi-tray</string>
	<key>CFBundleDisplayName</key>
	<string>heidi-tray</string>
	<key>CFBundleExecutable</key>
	<string>heidi-tray</string>
	<key>CFBundleIconFile</key>
	<string>heidi-tray</string>
	<key>CFBundlePackageType</key>
	<string>APPL</string>
	<key>CFBundleShortVersionString</key>
	<string>%s</string>
	<key>CFBundleVersion</key>
	<string>%s</string>
	<key>CFBundleInfoDictionaryVersion</key>
	<string>6.0</string>
	<key>LSMinimumSystemVersion</key>
	<string>%s</string>
	<key>LSUIElement</key>
	<true/>
	<key>NSHighResolutionCapable</key>
	<true/>
	<key>CFBundleURLTypes</key>
	<array>
		<dict>
			<key>CFBundleURLName</key>
			<string>%s</string>
			<key>CFBundleURLSchemes</key>
			<array>
				<string>heidi-tray</string>
			</array>
		</dict>
	</array>
</dict>
</plist>
`, BundleID, esc(numeric(version)), esc(numeric(version)), MinimumMacOS, BundleID))
}

// LaunchAgent starts exe at login. heidi-tray does not 'launchctl load' it:
// that would start a second tray now; it takes effect at the next login.
// (A signed build could use SMAppService instead.)
func LaunchAgent(exe string) []byte {
	return []byte(fmt.Sprintf(header+`<dict>
	<key>Label</key>
	<string>%s</string>
	<key>ProgramArguments</key>
	<array>
		<string>%s</string>
		<string>run</string>
	</array>
	<key>RunAtLoad</key>
	<true/>
	<key>ProcessType</key>
	<string>Interactive</string>
	<key>LimitLoadToSessionType</key>
	<string>Aqua</string>
</dict>
</plist>
`, BundleID, esc(exe)))
}
