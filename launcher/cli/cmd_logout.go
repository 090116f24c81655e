package cli

import "github.com/heidi-tray/heidi-tray/launcher/ipc"

var logoutCommand = command{
	name:  "logout",
	usage: `  heidi-tray logout                sign the clinician out of every Heidi window`,
	run:   trayCall("logout", false, (*ipc.Client).Logout, "Signed out of Heidi on this computer."),
}
