package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/heidi-tray/heidi-tray/launcher/wire"
)

var statusCommand = command{
	name:  "status",
	usage: `  heidi-tray status [--json]       is the tray running, and is it ready`,
	run:   statusCmd,
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
	switch st.TokenSource {
	case "emr":
		keys = "none kept here (token_source emr: the EMR passes tokens)"
	case "service":
		keys = "none kept here (token_source service: the clinic token service)"
	}
	fmt.Fprintf(env.Stdout, "heidi-tray %s is running%s (pid %d)\nstatus:      %s\nregion:      %s (%s)\nkeys for:    %s\npage server: %s (%d open)\nendpoint:    %s\n",
		st.Version, mode, st.PID, st.Message, st.Region, st.Environment, keys, st.PageURL, st.OpenPages, st.Endpoint)
	return nil
}
