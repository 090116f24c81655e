package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/heidi-tray/heidi-tray/keystore"
)

var secretCommand = command{
	name:  "secret",
	usage: `  heidi-tray secret set|status|delete   the launch secret that signs heidi-tray:// URLs (set reads stdin)`,
	run:   secretCmd,
}

func secretCmd(ctx context.Context, env Env, args []string) error {
	if len(args) == 0 {
		return usageErr("secret: say set, status or delete")
	}
	store := keystore.OS()
	if err := parse(flags("secret "+args[0]), args[1:]); err != nil {
		return err
	}
	switch args[0] {
	case "set":
		v, err := readSecret(env, "Paste the launch secret (input hidden): ")
		if err != nil {
			return err
		}
		if err := store.SetLaunchSecret(ctx, keystore.NewLaunchSecret([]byte(v))); err != nil {
			if _, ok := err.(*keystore.UnavailableError); ok {
				return err
			}
			return &UserError{Code: ExitUsage, Msg: err.Error()}
		}
		fmt.Fprintln(env.Stdout, "Stored the launch secret in the OS keychain. heidi-tray:// URLs must now be signed (docs/url-scheme.md).")
		notifyKeysChanged(ctx)
		return nil
	case "status":
		_, err := store.LaunchSecret(ctx)
		switch {
		case errors.Is(err, keystore.ErrNotFound):
			fmt.Fprintln(env.Stdout, "No launch secret: unsigned heidi-tray:// URLs ask the person at the screen before opening a new clinician.")
		case err != nil:
			return err
		default:
			fmt.Fprintln(env.Stdout, "A launch secret is set: heidi-tray:// URLs must be signed.")
		}
		return nil
	case "delete":
		err := store.DeleteLaunchSecret(ctx)
		if errors.Is(err, keystore.ErrNotFound) {
			return &UserError{Code: ExitFailure, Msg: "there is no launch secret"}
		}
		if err != nil {
			return err
		}
		fmt.Fprintln(env.Stdout, "Deleted the launch secret.")
		return nil
	}
	return usageErr("secret: unknown subcommand %q; use set, status or delete", args[0])
}
