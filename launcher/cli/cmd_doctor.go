package cli

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/heidi-tray/heidi-tray/keystore"
	"github.com/heidi-tray/heidi-tray/launcher/doctor"
	"github.com/heidi-tray/heidi-tray/launcher/heidiapi"
	"github.com/heidi-tray/heidi-tray/launcher/install"
	"github.com/heidi-tray/heidi-tray/launcher/ipc"
	"github.com/heidi-tray/heidi-tray/tray"
)

var doctorCommand = command{
	name:  "doctor",
	usage: `  heidi-tray doctor [--json] [--online]  check this workstation and explain each problem's fix`,
	run:   doctorCmd,
}

func doctorCmd(ctx context.Context, env Env, args []string) error {
	fs := flags("doctor")
	asJSON := fs.Bool("json", false, "print as JSON")
	online := fs.Bool("online", false, "also request a real JWT for Heidi's test identity")
	if err := parse(fs, args); err != nil {
		return err
	}
	cfg, cfgErr := loadConfig(env)
	checks := doctor.Run(ctx, doctor.Env{
		Config: cfg, ConfigErr: cfgErr, Keys: keystore.OS(), HTTP: heidiapi.NewHTTPClient(), Online: *online,
		TrayStatus: func(ctx context.Context) (bool, string, error) {
			ep, err := ipc.DefaultEndpoint()
			if err != nil {
				return false, "", err
			}
			sctx, cancel := context.WithTimeout(ctx, 3*time.Second)
			defer cancel()
			st, err := ipc.NewClient(ep.Path).Status(sctx)
			if err != nil {
				if ipc.NotRunning(err) {
					return false, "", nil
				}
				return false, "", fmt.Errorf("the tray at %s does not answer: %w", ep.Path, err)
			}
			return true, st.PageURL, nil
		},
		TrayHost:  tray.HostMissing,
		Scheme:    install.Registered,
		Autostart: install.AutostartEnabled,
		PortFree: func(port int) error {
			if port == 0 {
				return nil
			}
			l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
			if err != nil {
				return fmt.Errorf("port %d (the port setting) is in use by another program", port)
			}
			return l.Close()
		},
		Now: time.Now,
	})
	failed := doctor.Failed(checks)
	if *asJSON {
		writeJSON(env.Stdout, map[string]any{"ok": !failed, "checks": checks})
	} else {
		for _, c := range checks {
			fmt.Fprintf(env.Stdout, "%-5s %-15s %s\n", strings.ToUpper(c.Status), c.Name, c.Detail)
			if c.Fix != "" && c.Status != doctor.OK {
				fmt.Fprintf(env.Stdout, "      %-15s fix: %s\n", "", c.Fix)
			}
		}
	}
	if failed {
		return &UserError{Code: ExitFailure, Msg: "doctor found problems; each has its fix above"}
	}
	return nil
}
