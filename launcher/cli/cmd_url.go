package cli

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/heidi-tray/heidi-tray/launcher/urlscheme"
	"github.com/heidi-tray/heidi-tray/launcher/wire"
)

var urlCommand = command{
	name: "url",
	usage: `  heidi-tray url -- URL            handle a heidi-tray:// URL (what the OS runs)
  heidi-tray url -                 the same, the URL read from standard input (for programs: keeps it out of argv)`,
	run: urlCmd,
}

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
	if raw == "-" {
		b, err := io.ReadAll(io.LimitReader(env.Stdin, urlscheme.MaxURL+2))
		if err != nil {
			return &UserError{Code: ExitUsage, Msg: "url: reading standard input: " + err.Error()}
		}
		raw = strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
	}
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
