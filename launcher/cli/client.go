package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/heidi-tray/heidi-tray/launcher/ipc"
	"github.com/heidi-tray/heidi-tray/launcher/request"
	"github.com/heidi-tray/heidi-tray/launcher/wire"
)

// flags returns a FlagSet whose errors become usage errors, not output.
func flags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			var b bytes.Buffer
			fs.SetOutput(&b)
			fs.PrintDefaults()
			return &UserError{Code: ExitUsage, Msg: "options of '" + fs.Name() + "':\n" + b.String()}
		}
		return usageErr("%s: %v; run 'heidi-tray help'", fs.Name(), err)
	}
	if fs.NArg() > 0 {
		return usageErr("%s: unexpected argument %q; values go after their --flag", fs.Name(), request.Clip(fs.Arg(0)))
	}
	return nil
}

func endpoint() (ipc.Endpoint, error) {
	ep, err := ipc.DefaultEndpoint()
	if err != nil {
		return ep, &UserError{Code: ExitFailure, Msg: err.Error()}
	}
	return ep, nil
}

// apiErr turns a tray's error answer into a one-line user error.
func apiErr(err error) error {
	var ae *ipc.APIError
	if errors.As(err, &ae) {
		code := ExitFailure
		switch {
		case ae.Code == wire.CodeSuperseded:
			code = ExitSuperseded
		case ae.Code == wire.CodeShuttingDown:
			code = ExitTrayStopped
		case ae.Code == wire.CodeTimeout:
			code = ExitTimedOut
		case ae.Status == 400 || ae.Status == 415 || ae.Status == 413:
			code = ExitUsage
		}
		return &UserError{Code: code, Msg: oneLine(ae.Message)}
	}
	if ipc.NotRunning(err) {
		return &UserError{Code: ExitNotRunning, Msg: "heidi-tray is not running; start it with 'heidi-tray run'"}
	}
	return err
}

// connect returns a client for the running tray, without a round trip:
// the first request tells whether one is there (see withTray).
func connect(ctx context.Context, env Env, start bool) (*ipc.Client, error) {
	ep, err := endpoint()
	if err != nil {
		return nil, err
	}
	c := ipc.NewClient(ep.Path)
	if start {
		return c, nil
	}
	sctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	if _, err := c.Status(sctx); err != nil {
		if ipc.NotRunning(err) {
			return nil, &UserError{Code: ExitNotRunning, Msg: "heidi-tray is not running; start it with 'heidi-tray run'"}
		}
		return nil, fmt.Errorf("the tray did not answer on %s: %w", ep.Path, err)
	}
	return c, nil
}

// withTray runs call against the tray; when no tray is running it starts
// one and calls again, so a launch is never lost.
func withTray[T any](ctx context.Context, env Env, c *ipc.Client, call func() (T, error)) (T, error) {
	v, err := call()
	if err == nil || !ipc.NotRunning(err) {
		return v, err
	}
	if err := spawnTray(env); err != nil {
		return v, fmt.Errorf("starting the tray: %w", err)
	}
	if err := c.WaitReady(ctx, 15*time.Second); err != nil {
		return v, fmt.Errorf("the tray was started but did not answer within 15 s (see its log): %w", err)
	}
	return call()
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func jsonCompact(v any) ([]byte, error) { return json.Marshal(v) }

// trayCall is a command that makes one call to the tray and says what it
// did; with start, a tray is started if none runs.
func trayCall(name string, start bool, call func(*ipc.Client, context.Context) error, done string) func(context.Context, Env, []string) error {
	return func(ctx context.Context, env Env, args []string) error {
		if err := parse(flags(name), args); err != nil {
			return err
		}
		c, err := connect(ctx, env, start)
		if err != nil {
			return err
		}
		if start {
			_, err = withTray(ctx, env, c, func() (struct{}, error) { return struct{}{}, call(c, ctx) })
		} else {
			err = call(c, ctx)
		}
		if err != nil {
			return apiErr(err)
		}
		fmt.Fprintln(env.Stdout, done)
		return nil
	}
}
