package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/heidi-tray/heidi-tray/launcher/ipc"
	"github.com/heidi-tray/heidi-tray/launcher/request"
	"github.com/heidi-tray/heidi-tray/launcher/wire"
)

// flags returns a FlagSet whose errors become usage errors, not output.
func flags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			var b bytes.Buffer
			fs.SetOutput(&b)
			fs.PrintDefaults()
			return &UserError{Code: ExitUsage, Msg: "options of '" + fs.Name() + "':\n" + b.String()}
		}
		return usageErr("%s: %v; run 'heidi-tray help'", fs.Name(), err)
	}
	if fs.NArg() > 0 {
		return usageErr("%s: unexpected argument %q; values go after their --flag", fs.Name(), request.Clip(fs.Arg(0)))
	}
	return nil
}

func endpoint() (ipc.Endpoint, error) {
	ep, err := ipc.DefaultEndpoint()
	if err != nil {
		return ep, &UserError{Code: ExitFailure, Msg: err.Error()}
	}
	return ep, nil
}

// apiErr turns a tray's error answer into a one-line user error.
func apiErr(err error) error {
	var ae *ipc.APIError
	if errors.As(err, &ae) {
		code := ExitFailure
		if ae.Status == 400 || ae.Status == 415 || ae.Status == 413 {
			code = ExitUsage
		}
		return &UserError{Code: code, Msg: oneLine(ae.Message)}
	}
	if ipc.NotRunning(err) {
		return &UserError{Code: ExitNotRunning, Msg: "heidi-tray is not running; start it with 'heidi-tray run'"}
	}
	return err
}

func openCmd(ctx context.Context, env Env, args []string) error {
	fs := flags("open")
	var o request.Open
	var p request.Patient
	var waitNote, asJSON bool
	fs.StringVar(&o.Email, "email", "", "clinician's email")
	fs.StringVar(&o.UserID, "user-id", "", "clinician's user id in the EMR")
	fs.StringVar(&o.Region, "region", "", "Heidi region (default: the region setting)")
	fs.StringVar(&p.ID, "patient-id", "", "patient id in the EMR")
	fs.StringVar(&p.Name, "patient-name", "", "patient's name")
	fs.StringVar(&p.DOB, "patient-dob", "", "patient's date of birth, YYYY-MM-DD")
	fs.StringVar(&p.Gender, "patient-gender", "", "male, female, other or unknown")
	fs.StringVar(&o.EncounterID, "encounter-id", "", "encounter or appointment id")
	fs.StringVar(&o.Context, "context", "", "context for Heidi (medications, allergies…)")
	fs.BoolVar(&waitNote, "wait-note", false, "wait for the clinician's pushed note and print it as JSON")
	fs.BoolVar(&asJSON, "json", false, "print the result as JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	if p != (request.Patient{}) {
		if p.ID == "" || p.Name == "" {
			return usageErr("open: --patient-id and --patient-name go together")
		}
		o.Patient = &p
	}
	cfg, err := loadConfig(env)
	if err != nil {
		return err
	}
	if err := o.Normalize(cfg.Region); err != nil {
		return &UserError{Code: ExitUsage, Msg: "open: " + err.Error()}
	}
	if err := refuseIfDisabled(cfg); err != nil {
		return err
	}
	c, err := connect(ctx, env, true)
	if err != nil {
		return err
	}
	if waitNote {
		n, err := withTray(ctx, env, c, func() (wire.Note, error) { return c.OpenWaitNote(ctx, o) })
		if err != nil {
			return apiErr(err)
		}
		return writeJSON(env.Stdout, n)
	}
	res, err := withTray(ctx, env, c, func() (wire.OpenResult, error) { return c.Open(ctx, o) })
	if err != nil {
		return apiErr(err)
	}
	if asJSON {
		return writeJSON(env.Stdout, res)
	}
	fmt.Fprintln(env.Stdout, res.Message)
	return nil
}

// connect returns a client for the running tray, without a round trip:
// the first request tells whether one is there (see withTray).
func connect(ctx context.Context, env Env, start bool) (*ipc.Client, error) {
	ep, err := endpoint()
	if err != nil {
		return nil, err
	}
	c := ipc.NewClient(ep.Path)
	if start {
		return c, nil
	}
	sctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	if _, err := c.Status(sctx); err != nil {
		if ipc.NotRunning(err) {
			return nil, &UserError{Code: ExitNotRunning, Msg: "heidi-tray is not running; start it with 'heidi-tray run'"}
		}
		return nil, fmt.Errorf("the tray did not answer on %s: %w", ep.Path, err)
	}
	return c, nil
}

// withTray runs call against the tray; when no tray is running it starts
// one and calls again, so a launch is never lost.
func withTray[T any](ctx context.Context, env Env, c *ipc.Client, call func() (T, error)) (T, error) {
	v, err := call()
	if err == nil || !ipc.NotRunning(err) {
		return v, err
	}
	if err := spawnTray(env); err != nil {
		return v, fmt.Errorf("starting the tray: %w", err)
	}
	if err := c.WaitReady(ctx, 15*time.Second); err != nil {
		return v, fmt.Errorf("the tray was started but did not answer within 15 s (see its log): %w", err)
	}
	return call()
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func logoutCmd(ctx context.Context, env Env, args []string) error {
	if err := parse(flags("logout"), args); err != nil {
		return err
	}
	c, err := connect(ctx, env, false)
	if err != nil {
		return err
	}
	if err := c.Logout(ctx); err != nil {
		return apiErr(err)
	}
	fmt.Fprintln(env.Stdout, "Signed out of Heidi on this computer.")
	return nil
}

func setupCmd(ctx context.Context, env Env, args []string) error {
	if err := parse(flags("setup"), args); err != nil {
		return err
	}
	c, err := connect(ctx, env, true)
	if err != nil {
		return err
	}
	if _, err := withTray(ctx, env, c, func() (struct{}, error) { return struct{}{}, c.Setup(ctx) }); err != nil {
		return apiErr(err)
	}
	fmt.Fprintln(env.Stdout, "The settings page is opening in the browser.")
	return nil
}

func quitCmd(ctx context.Context, env Env, args []string) error {
	if err := parse(flags("quit"), args); err != nil {
		return err
	}
	c, err := connect(ctx, env, false)
	if err != nil {
		return err
	}
	if err := c.Quit(ctx); err != nil {
		return apiErr(err)
	}
	fmt.Fprintln(env.Stdout, "heidi-tray is stopping.")
	return nil
}

func statusCmd(ctx context.Context, env Env, args []string) error {
	fs := flags("status")
	asJSON := fs.Bool("json", false, "print as JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	c, err := connect(ctx, env, false)
	if err != nil {
		if *asJSON {
			writeJSON(env.Stdout, map[string]any{"running": false})
			return &UserError{Code: ExitNotRunning}
		}
		return err
	}
	st, err := c.Status(ctx)
	if err != nil {
		return apiErr(err)
	}
	if *asJSON {
		return writeJSON(env.Stdout, struct {
			Running bool `json:"running"`
			wire.Status
		}{true, st})
	}
	mode := ""
	if st.Sandbox {
		mode = " [SANDBOX]"
	}
	keys := strings.Join(st.KeyRegions, ", ")
	if keys == "" {
		keys = "none"
	}
	fmt.Fprintf(env.Stdout, "heidi-tray %s is running%s (pid %d)\nstatus:      %s\nregion:      %s (%s)\nkeys for:    %s\npage server: %s (%d open)\nendpoint:    %s\n",
		st.Version, mode, st.PID, st.Message, st.Region, st.Environment, keys, st.PageURL, st.OpenPages, st.Endpoint)
	return nil
}
