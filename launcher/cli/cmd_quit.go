package cli

import (
	"context"
	"fmt"
)

var quitCommand = command{
	name:  "quit",
	usage: `  heidi-tray quit                  stop the running tray`,
	run:   quitCmd,
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
