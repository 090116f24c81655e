// Package cli is heidi-tray's command line: the long-running tray ('run',
// 'sandbox') and the thin clients that talk to it ('open', 'logout',
// 'status', …). Errors reach the user as one line that says what to do.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"

	"github.com/heidi-tray/heidi-tray/launcher/config"
	"github.com/heidi-tray/heidi-tray/launcher/paths"
)

// Exit codes.
const (
	ExitOK         = 0
	ExitFailure    = 1
	ExitUsage      = 2
	ExitNotRunning = 3
)

// Env is what a command runs with; tests build their own.
type Env struct {
	Args    []string
	Stdin   io.Reader
	Stdout  io.Writer
	Stderr  io.Writer
	Environ []string
	Version string
}

// UserError is a failure whose message is complete advice; it is printed as
// is, with its exit code.
type UserError struct {
	Code int
	Msg  string
}

func (e *UserError) Error() string { return e.Msg }

func usageErr(format string, a ...any) error {
	return &UserError{Code: ExitUsage, Msg: fmt.Sprintf(format, a...)}
}

const usage = `heidi-tray: opens Heidi for the clinician and patient a desktop EMR names.

Usage:
  heidi-tray [run]                 run the tray (one per user)
  heidi-tray sandbox               run the tray against a built-in fake Heidi (no key needed)
  heidi-tray open --email E --user-id U [--region R] [--patient-id ID --patient-name NAME
                  [--patient-dob YYYY-MM-DD] [--patient-gender male|female|other|unknown]]
                  [--encounter-id X] [--context TEXT] [--wait-note] [--json]
  heidi-tray logout                sign the clinician out of every Heidi window
  heidi-tray status [--json]       is the tray running, and is it ready
  heidi-tray setup                 open the settings page (keys, region, launch secret, connection test)
  heidi-tray doctor [--json] [--online]  check this workstation and explain each problem's fix
  heidi-tray key set --region R    store the API key for a region (read from standard input)
  heidi-tray key status            list the regions that have a key (masked)
  heidi-tray key delete --region R remove a region's key
  heidi-tray url -- URL            handle a heidi-tray:// URL (what the OS runs)
  heidi-tray secret set|status|delete   the launch secret that signs heidi-tray:// URLs (set reads stdin)
  heidi-tray install               register the heidi-tray:// scheme and start at login for this user
  heidi-tray uninstall [--purge]   remove them (--purge: also keys, settings, state and logs)
  heidi-tray config [--json|--init] show the effective settings and where each came from
  heidi-tray quit                  stop the running tray
  heidi-tray version

Docs: README.md, docs/ipc.md, docs/url-scheme.md
`

// Main runs one command and returns its exit code.
func Main(ctx context.Context, env Env) int {
	err := dispatch(ctx, env)
	if err == nil {
		return ExitOK
	}
	var ue *UserError
	if errors.As(err, &ue) {
		if ue.Msg != "" {
			fmt.Fprintln(env.Stderr, "heidi-tray: "+ue.Msg)
		}
		return ue.Code
	}
	fmt.Fprintln(env.Stderr, "heidi-tray: "+oneLine(err.Error()))
	return ExitFailure
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func dispatch(ctx context.Context, env Env) error {
	args := env.Args
	if len(args) == 0 {
		return runTray(ctx, env, false, nil)
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "run":
		return runTray(ctx, env, false, rest)
	case "sandbox":
		return runTray(ctx, env, true, rest)
	case "open":
		return openCmd(ctx, env, rest)
	case "url":
		return urlCmd(ctx, env, rest)
	case "setup":
		return setupCmd(ctx, env, rest)
	case "doctor":
		return doctorCmd(ctx, env, rest)
	case "secret":
		return secretCmd(ctx, env, rest)
	case "install":
		return installCmd(ctx, env, rest)
	case "uninstall":
		return uninstallCmd(ctx, env, rest)
	case "logout":
		return logoutCmd(ctx, env, rest)
	case "status":
		return statusCmd(ctx, env, rest)
	case "key":
		return keyCmd(ctx, env, rest)
	case "config":
		return configCmd(env, rest)
	case "quit":
		return quitCmd(ctx, env, rest)
	case "version", "--version":
		fmt.Fprintf(env.Stdout, "heidi-tray %s (%s %s/%s)\n", env.Version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(env.Stdout, usage)
		return nil
	}
	return usageErr("unknown command %q; run 'heidi-tray help'", cmd)
}

// loadConfig resolves the settings for this user.
func loadConfig(env Env) (*config.Config, error) {
	file, err := paths.ConfigFile()
	if err != nil {
		return nil, err
	}
	c, err := config.Load(file, env.Environ, policySource())
	if err != nil {
		return nil, &UserError{Code: ExitUsage, Msg: err.Error()}
	}
	return c, nil
}

// refuseIfDisabled honours the administrator's kill switch.
func refuseIfDisabled(c *config.Config) error {
	if !c.Disabled {
		return nil
	}
	where := c.Sources["disabled"].Kind
	if w := c.Sources["disabled"].Where; w != "" {
		where += " " + w
	}
	return &UserError{Code: ExitFailure, Msg: "heidi-tray is turned off on this workstation (setting disabled, from " + where + "); ask your IT administrator"}
}
