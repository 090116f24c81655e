package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/heidi-tray/heidi-tray/launcher/internal/strictjson"
	"github.com/heidi-tray/heidi-tray/launcher/ipc"

	"github.com/heidi-tray/heidi-tray/launcher/request"
	"github.com/heidi-tray/heidi-tray/launcher/wire"
)

var openCommand = command{
	name: "open",
	usage: `  heidi-tray open --json - [--wait-note [--wait-timeout 30m]]   the request as JSON on standard input (recommended:
                  patient details in a command line are visible to every user of the machine)
  heidi-tray open --email E --user-id U [--region R] [--patient-id ID --patient-name NAME
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
	// 'open --json -': the request is JSON on standard input, never in argv,
	// where every user of the machine can read it.
	fromStdin := false
	for i := 1; i < len(args); i++ {
		if args[i] == "-" && (args[i-1] == "--json" || args[i-1] == "-json") {
			fromStdin = true
			args = append(args[:i:i], args[i+1:]...)
			break
		}
	}
	if err := parse(fs, args); err != nil {
		return err
	}
	if fromStdin {
		var set []string
		fs.Visit(func(f *flag.Flag) {
			if f.Name != "json" && f.Name != "wait-note" && f.Name != "wait-timeout" {
				set = append(set, "--"+f.Name)
			}
		})
		if !asJSON || len(set) > 0 {
			return usageErr("open: '-' reads the whole request as JSON from standard input: use 'open --json -' [--wait-note [--wait-timeout D]] without %s", strings.Join(set, " "))
		}
		body, err := io.ReadAll(io.LimitReader(env.Stdin, ipc.MaxBody+1))
		if err != nil {
			return &UserError{Code: ExitUsage, Msg: "open: reading standard input: " + err.Error()}
		}
		if len(body) > ipc.MaxBody {
			return usageErr("open: the request on standard input is larger than %d bytes", ipc.MaxBody)
		}
		if err := strictjson.Decode(body, &o); err != nil {
			return usageErr("open: the request on standard input: %v (see docs/ipc.md for its fields)", err)
		}
	} else if p != (request.Patient{}) {
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
