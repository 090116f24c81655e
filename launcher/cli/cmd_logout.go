package cli

import (
	"context"
	"fmt"
)

var logoutCommand = command{
	name:  "logout",
	usage: `  heidi-tray logout                sign the clinician out of every Heidi window`,
	run:   logoutCmd,
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
