package cli

import (
	"context"
	"fmt"
	"time"
)

var quitCommand = command{
	name:  "quit",
	usage: `  heidi-tray quit [--timeout 20s]  stop the running tray; returns once it has exited`,
	run:   quitCmd,
}

func quitCmd(ctx context.Context, env Env, args []string) error {
	fs := flags("quit")
	wait := fs.Duration("timeout", 20*time.Second, "how long to wait for the tray to exit (0: do not wait)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *wait < 0 || *wait > 10*time.Minute {
		return usageErr("quit: --timeout must be from 0 to 10m")
	}
	c, err := connect(ctx, env, false)
	if err != nil {
		return err
	}
	st, err := c.Status(ctx)
	if err != nil {
		return apiErr(err)
	}
	if err := c.Quit(ctx); err != nil {
		return apiErr(err)
	}
	if *wait == 0 {
		fmt.Fprintln(env.Stdout, "heidi-tray is stopping.")
		return nil
	}
	// An installer replaces the exe right after this returns: return only
	// once the process is gone (it signs every window out on its way).
	if err := waitExit(ctx, st.PID, *wait); err != nil {
		return &UserError{Code: ExitFailure, Msg: fmt.Sprintf("heidi-tray (pid %d) was asked to stop but is still running after %s: %v", st.PID, *wait, err)}
	}
	fmt.Fprintln(env.Stdout, "heidi-tray has stopped.")
	return nil
}
