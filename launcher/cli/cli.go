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
	// --wait-note ended without a note:
	ExitSuperseded  = 4 // the window moved on to another launch (or closed) first
	ExitTrayStopped = 5 // the tray stopped
	ExitTimedOut    = 6 // --wait-timeout passed
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

// command is one subcommand; each lives in its own cmd_*.go file with its
// flags and its lines of help.
type command struct {
	name  string
	usage string // its lines in 'heidi-tray help'
	run   func(ctx context.Context, env Env, args []string) error
}

var versionCommand = command{
	name:  "version",
	usage: "  heidi-tray version",
	run: func(_ context.Context, env Env, _ []string) error {
		fmt.Fprintf(env.Stdout, "heidi-tray %s (%s %s/%s)\n", env.Version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
		return nil
	},
}

// commands in the order 'help' lists them.
func commands() []command {
	return []command{runCommand, sandboxCommand, openCommand, logoutCommand, statusCommand, setupCommand, doctorCommand,
		keyCommand, notesCommand, urlCommand, secretCommand, installCommand, uninstallCommand, configCommand, quitCommand, serveCommand, versionCommand}
}

func usage() string {
	var b strings.Builder
	b.WriteString("heidi-tray: opens Heidi for the clinician and patient a desktop EMR names.\n\nUsage:\n")
	for _, c := range commands() {
		b.WriteString(c.usage + "\n")
	}
	b.WriteString("\nDocs: README.md, docs/ipc.md, docs/url-scheme.md\n")
	return b.String()
}

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
	args := dropProcessSerial(env.Args)
	if len(args) == 0 {
		return runCommand.run(ctx, env, nil)
	}
	name, rest := args[0], args[1:]
	switch name {
	case "--version":
		name = "version"
	case "help", "-h", "--help":
		fmt.Fprint(env.Stdout, usage())
		return nil
	}
	for _, c := range commands() {
		if c.name == name {
			return c.run(ctx, env, rest)
		}
	}
	return usageErr("unknown command %q; run 'heidi-tray help'", name)
}

// dropProcessSerial removes the -psn_0_12345 argument macOS passes to an
// app launched from the Finder or after the Gatekeeper dialog: it is not a
// command, and taking it for one would stop that first launch.
func dropProcessSerial(args []string) []string {
	for len(args) > 0 && strings.HasPrefix(args[0], "-psn_") {
		args = args[1:]
	}
	return args
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
