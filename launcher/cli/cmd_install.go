package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/heidi-tray/heidi-tray/keystore"
	"github.com/heidi-tray/heidi-tray/launcher/heidiapi"
	"github.com/heidi-tray/heidi-tray/launcher/install"
	"github.com/heidi-tray/heidi-tray/launcher/paths"
)

var installCommand = command{
	name:  "install",
	usage: `  heidi-tray install               register the heidi-tray:// scheme and start at login for this user`,
	run:   installCmd,
}

var uninstallCommand = command{
	name:  "uninstall",
	usage: `  heidi-tray uninstall [--purge]   remove them (--purge: also keys, settings, state and logs)`,
	run:   uninstallCmd,
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
			if err := removeTree(d); err != nil {
				return err
			}
			fmt.Fprintln(env.Stdout, "removed:", d)
		}
	}
	return nil
}

// removeTree is os.RemoveAll, falling back to removing entry by entry:
// on Windows os.RemoveAll deletes with POSIX semantics, which Wine refuses
// ("Invalid function"); plain deletes work there.
func removeTree(dir string) error {
	err := os.RemoveAll(dir)
	if err == nil {
		return nil
	}
	var paths []string
	filepath.WalkDir(dir, func(p string, _ fs.DirEntry, werr error) error {
		if werr == nil {
			paths = append(paths, p)
		}
		return nil
	})
	for i := len(paths) - 1; i >= 0; i-- { // children before their directory
		os.Remove(paths[i])
	}
	if _, serr := os.Stat(dir); os.IsNotExist(serr) {
		return nil
	}
	return err
}

func printReport(env Env, rep install.Report) {
	for _, line := range rep {
		fmt.Fprintln(env.Stdout, line)
	}
}
