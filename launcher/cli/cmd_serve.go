//go:build !windows || tokenservice

package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"os/signal"
	"syscall"

	"github.com/heidi-tray/heidi-tray/launcher/logging"
	"github.com/heidi-tray/heidi-tray/launcher/tokenservice"
)

// serveCmd runs the clinic token service (docs/token-service.md) until
// SIGINT/SIGTERM (or, on Windows, the service manager's stop).
var serveCommand = command{
	name:  "serve",
	usage: `  heidi-tray serve --config FILE [--check]  run the clinic token service (docs/token-service.md)`,
	run:   serveCmd,
}

func serveCmd(ctx context.Context, env Env, args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	cfgPath := fs.String("config", "", "the token service's JSON config file (required)")
	check := fs.Bool("check", false, "validate the config, keys file, keytab and certificate, then exit")
	logLevel := fs.String("log-level", "info", "info or debug")
	logDir := fs.String("log-dir", "", "write the service log (rotated) to heidi-tray.log in this directory instead of standard error")
	if err := fs.Parse(args); err != nil {
		return usageErr("%v", err)
	}
	if *cfgPath == "" || fs.NArg() > 0 {
		return usageErr("usage: heidi-tray serve --config /etc/heidi-tray/token-service.json [--check] [--log-dir DIR] [--log-level info|debug]")
	}
	cfg, err := tokenservice.LoadConfig(*cfgPath)
	if err != nil {
		return &UserError{Code: ExitUsage, Msg: oneLine(err.Error())}
	}
	var logOut io.Writer = env.Stderr
	if *logDir != "" {
		lf, err := logging.Open(*logDir)
		if err != nil {
			return &UserError{Code: ExitFailure, Msg: oneLine(err.Error())}
		}
		defer lf.Close()
		logOut = lf
	}
	log := logging.New(logOut, *logLevel)
	srv, err := tokenservice.New(cfg, tokenservice.Options{Log: log})
	if err != nil {
		return &UserError{Code: ExitFailure, Msg: oneLine(err.Error())}
	}
	defer srv.Close()
	if *check {
		if err := srv.CheckTLS(); err != nil {
			return &UserError{Code: ExitFailure, Msg: oneLine(err.Error())}
		}
		fmt.Fprintln(env.Stdout, "token service config OK")
		return nil
	}
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	ctx, done := serviceContext(ctx, log)
	defer done()
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return &UserError{Code: ExitFailure, Msg: fmt.Sprintf("cannot listen on %s: %v", cfg.Listen, err)}
	}
	log.Info("token service listening", "addr", ln.Addr().String(), "identity", cfg.Identity)
	if err := srv.Serve(ctx, ln); err != nil {
		return &UserError{Code: ExitFailure, Msg: oneLine(err.Error())}
	}
	log.Info("token service stopped")
	return nil
}
