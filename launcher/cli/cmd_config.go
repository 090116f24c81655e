package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/heidi-tray/heidi-tray/launcher/config"
)

var configCommand = command{
	name:  "config",
	usage: `  heidi-tray config [--json|--init] show the effective settings and where each came from`,
	run:   func(_ context.Context, env Env, args []string) error { return configCmd(env, args) },
}

func configCmd(env Env, args []string) error {
	fs := flags("config")
	asJSON := fs.Bool("json", false, "print as JSON")
	initFile := fs.Bool("init", false, "write a commented config file if there is none")
	if err := parse(fs, args); err != nil {
		return err
	}
	c, err := loadConfig(env)
	if err != nil {
		return err
	}
	if *initFile {
		if _, err := os.Stat(c.File); err == nil {
			return &UserError{Code: ExitFailure, Msg: c.File + " already exists; edit it"}
		} else if !errors.Is(err, os.ErrNotExist) {
			return err
		}
		if err := os.MkdirAll(filepath.Dir(c.File), 0o700); err != nil {
			return err
		}
		if err := os.WriteFile(c.File, []byte(config.Template()), 0o600); err != nil {
			return err
		}
		fmt.Fprintln(env.Stdout, "Wrote", c.File)
		return nil
	}
	if *asJSON {
		type item struct {
			Value string `json:"value"`
			config.Source
		}
		out := map[string]item{}
		for _, k := range config.Keys() {
			out[k] = item{c.Value(k), c.Sources[k]}
		}
		if err := writeJSON(env.Stdout, map[string]any{"file": c.File, "settings": out, "warnings": append([]string{}, c.Warnings...)}); err != nil {
			return err
		}
		return warningsErr(c)
	}
	fmt.Fprintf(env.Stdout, "# config file: %s\n", c.File)
	for _, k := range config.Keys() {
		src := c.Sources[k]
		where := src.Kind
		if src.Where != "" {
			where += " " + src.Where
		}
		fmt.Fprintf(env.Stdout, "%-22s = %-30q # %s\n", k, c.Value(k), where)
	}
	for _, w := range c.Warnings {
		fmt.Fprintln(env.Stderr, "warning:", w)
	}
	return warningsErr(c)
}

// warningsErr makes 'config' exit 1 when a setting was not applied, so a
// deployment script notices; the tray itself runs on the safe values.
func warningsErr(c *config.Config) error {
	if len(c.Warnings) == 0 {
		return nil
	}
	return &UserError{Code: ExitFailure, Msg: fmt.Sprintf("%d setting(s) not applied; heidi-tray runs with the values above", len(c.Warnings))}
}
