package cli

import (
	"context"
	"fmt"
)

var setupCommand = command{
	name:  "setup",
	usage: `  heidi-tray setup                 open the settings page (keys, region, launch secret, connection test)`,
	run:   setupCmd,
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
