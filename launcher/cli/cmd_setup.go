package cli

import "github.com/heidi-tray/heidi-tray/launcher/ipc"

var setupCommand = command{
	name:  "setup",
	usage: `  heidi-tray setup                 open the settings page (keys, region, launch secret, connection test)`,
	// Setup starts the tray if none runs: the settings page is how a new
	// workstation gets its key.
	run: trayCall("setup", true, (*ipc.Client).Setup, "The settings page is opening in the browser."),
}
