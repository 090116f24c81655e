package cli

import (
	"path"
	"strings"
)

// macBundleOf (macOS paths, hence package path) returns the .app bundle whose Contents/MacOS holds exe, or "".
func macBundleOf(exe string) string {
	macos := path.Dir(exe)
	contents := path.Dir(macos)
	app := path.Dir(contents)
	if path.Base(macos) != "MacOS" || path.Base(contents) != "Contents" || !strings.HasSuffix(app, ".app") {
		return ""
	}
	return app
}

// macSpawnArgv is how a Mac client starts the tray. From inside the app
// bundle it asks LaunchServices (open -g: in the background) to launch that
// very bundle, so the tray is an app of its own — its own responsible
// process for the privacy system, and the instance LaunchServices sends
// heidi-tray:// URLs and the Quit event to — instead of a child of the EMR.
// When the app already runs, open only activates it. A bare binary (a
// developer build) has no bundle to launch and is exec'd: viaLaunchServices
// is false then. Platform-neutral, so its tests run everywhere.
func macSpawnArgv(exe string) (argv []string, viaLaunchServices bool) {
	if app := macBundleOf(exe); app != "" {
		return []string{"/usr/bin/open", "-g", "-a", app}, true
	}
	return []string{exe, "run"}, false
}
