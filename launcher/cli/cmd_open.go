package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/heidi-tray/heidi-tray/launcher/request"
	"github.com/heidi-tray/heidi-tray/launcher/wire"
)

var openCommand = command{
	name: "open",
	usage: `  heidi-tray open --email E --user-id U [--region R] [--patient-id ID --patient-name NAME
                  [--patient-dob YYYY-MM-DD] [--patient-gender male|female|other|unknown]]
                  [--encounter-id X] [--context TEXT] [--wait-note [--wait-timeout 30m]] [--json]`,
	run: openCmd,
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
	waitTimeout := fs.Duration("wait-timeout", 0, "with --wait-note: give up after this long (exit 6), e.g. 30m")
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
	if *waitTimeout != 0 && !waitNote {
		return usageErr("open: --wait-timeout goes with --wait-note")
	}
	c, err := connect(ctx, env, true)
	if err != nil {
		return err
	}
	if waitNote {
		if *waitTimeout < 0 || *waitTimeout > wire.MaxWaitSeconds*time.Second {
			return usageErr("open: --wait-timeout must be between 1s and 24h (0, the default, waits as long as it takes)")
		}
		n, err := withTray(ctx, env, c, func() (wire.WaitedNote, error) { return c.OpenWaitNote(ctx, o, *waitTimeout) })
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
