package cli

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/heidi-tray/heidi-tray/launcher/config"
)

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
		return writeJSON(env.Stdout, map[string]any{"file": c.File, "settings": out})
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
	return nil
}
