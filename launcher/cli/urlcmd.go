package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/heidi-tray/heidi-tray/keystore"
	"github.com/heidi-tray/heidi-tray/launcher/heidiapi"
	"github.com/heidi-tray/heidi-tray/launcher/install"
	"github.com/heidi-tray/heidi-tray/launcher/paths"
	"github.com/heidi-tray/heidi-tray/launcher/urlscheme"
	"github.com/heidi-tray/heidi-tray/launcher/wire"
)

// urlCmd is what the OS runs for a heidi-tray:// URL: 'url -- <URL>'. It
// takes exactly one argument and hands it, unparsed, to the tray, which is
// the one place URLs are parsed and judged.
func urlCmd(ctx context.Context, env Env, args []string) error {
	if len(args) > 0 && args[0] == "--" {
		args = args[1:]
	}
	if len(args) != 1 {
		return usageErr("url: expects exactly one heidi-tray:// URL (got %d arguments); the OS runs: heidi-tray url -- \"%%1\"", len(args))
	}
	raw := args[0]
	if len(raw) > urlscheme.MaxURL || !strings.HasPrefix(strings.ToLower(raw), urlscheme.Scheme+"://") {
		return usageErr("url: the argument is not a heidi-tray:// URL")
	}
	cfg, err := loadConfig(env)
	if err != nil {
		return err
	}
	if err := refuseIfDisabled(cfg); err != nil {
		return err
	}
	c, err := connect(ctx, env, true)
	if err != nil {
		return err
	}
	res, err := withTray(ctx, env, c, func() (wire.OpenResult, error) { return c.OpenURL(ctx, raw) })
	if err != nil {
		return apiErr(err)
	}
	fmt.Fprintln(env.Stdout, res.Message)
	return nil
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

func installCmd(ctx context.Context, env Env, args []string) error {
	if err := parse(flags("install"), args); err != nil {
		return err
	}
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	if exe, err = filepath.EvalSymlinks(exe); err != nil {
		return err
	}
	if strings.Contains(exe, string(filepath.Separator)+"go-build") {
		return &UserError{Code: ExitUsage, Msg: "install: this is a temporary 'go run' binary; build heidi-tray and install that ('make build', then './heidi-tray install')"}
	}
	cfg, err := loadConfig(env)
	if err != nil {
		return err
	}
	rep, err := install.Install(exe, cfg.Autostart)
	printReport(env, rep)
	return err
}

func uninstallCmd(ctx context.Context, env Env, args []string) error {
	fs := flags("uninstall")
	purge := fs.Bool("purge", false, "also delete the API keys, the launch secret, settings, state and logs")
	if err := parse(fs, args); err != nil {
		return err
	}
	if c, err := connect(ctx, env, false); err == nil {
		if c.Quit(ctx) == nil {
			fmt.Fprintln(env.Stdout, "stopped: the running tray")
		}
	}
	rep, err := install.Uninstall()
	printReport(env, rep)
	if err != nil {
		return err
	}
	if !*purge {
		return nil
	}
	store := keystore.OS()
	for _, r := range heidiapi.Regions {
		if err := store.DeleteAPIKey(ctx, r); err == nil {
			fmt.Fprintf(env.Stdout, "removed: the API key for %s from the keychain\n", r)
		} else if !errors.Is(err, keystore.ErrNotFound) {
			return err
		}
	}
	if err := store.DeleteLaunchSecret(ctx); err == nil {
		fmt.Fprintln(env.Stdout, "removed: the launch secret from the keychain")
	} else if !errors.Is(err, keystore.ErrNotFound) {
		return err
	}
	var dirs []string
	if d, err := paths.StateDir(); err == nil {
		dirs = append(dirs, d)
	}
	if d, err := paths.LogDir(); err == nil {
		dirs = append(dirs, filepath.Dir(d))
	}
	if f, err := paths.ConfigFile(); err == nil && os.Getenv("HEIDI_TRAY_CONFIG") == "" {
		dirs = append(dirs, filepath.Dir(f))
	}
	for _, d := range dirs {
		if _, err := os.Stat(d); err == nil {
			if err := os.RemoveAll(d); err != nil {
				return err
			}
			fmt.Fprintln(env.Stdout, "removed:", d)
		}
	}
	return nil
}

func printReport(env Env, rep install.Report) {
	for _, line := range rep {
		fmt.Fprintln(env.Stdout, line)
	}
}
