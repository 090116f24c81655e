//go:build windows && !tokenservice

package cli

import "context"

// The workstation exe carries no token service (and no Kerberos server code):
// clinic servers run a build made with -tags tokenservice.
var serveCommand = command{
	name:  "serve",
	usage: `  heidi-tray serve --config FILE [--check]  run the clinic token service (docs/token-service.md)`,
	run:   serveCmd,
}

func serveCmd(ctx context.Context, env Env, args []string) error {
	return usageErr("this heidi-tray.exe is the workstation build; the clinic token service is heidi-tray-tokens.exe (make token-service-windows), see docs/token-service.md")
}
