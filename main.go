// heidi-tray opens Heidi's widget for the clinician and patient a desktop EMR
// names. See README.md; the command line lives in launcher/cli.
package main

import (
	"context"
	"os"

	"github.com/heidi-tray/heidi-tray/launcher/cli"
)

// version is set at build time: -ldflags "-X main.version=1.2.3".
var version = "0.1.0-dev"

func main() {
	cli.AttachConsole()
	os.Exit(cli.Main(context.Background(), cli.Env{
		Args: os.Args[1:], Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr,
		Environ: os.Environ(), Version: version,
	}))
}
