package cli

import "github.com/heidi-tray/heidi-tray/launcher/ipc"

var quitCommand = command{
	name:  "quit",
	usage: `  heidi-tray quit                  stop the running tray`,
	run:   trayCall("quit", false, (*ipc.Client).Quit, "heidi-tray is stopping."),
}
