package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/heidi-tray/heidi-tray/keystore"
	"github.com/heidi-tray/heidi-tray/launcher/heidiapi"
	"github.com/heidi-tray/heidi-tray/launcher/ipc"
	"github.com/heidi-tray/heidi-tray/launcher/request"
)

var keyCommand = command{
	name: "key",
	usage: `  heidi-tray key set --region R    store the API key for a region (read from standard input)
  heidi-tray key status            list the regions that have a key (masked)
  heidi-tray key delete --region R remove a region's key`,
	run: keyCmd,
}

func keyCmd(ctx context.Context, env Env, args []string) error {
	if len(args) == 0 {
		return usageErr("key: say set, status or delete")
	}
	if c, err := loadConfig(env); err == nil && (c.TokenSource == "emr" || c.TokenSource == "service") {
		from := "the clinic token service"
		if c.TokenSource == "emr" {
			from = "the EMR"
		}
		src := c.Sources["token_source"]
		return &UserError{Code: ExitFailure, Msg: fmt.Sprintf("token_source is %s (from %s): this workstation keeps no Heidi API key; tokens come from %s (docs/token-service.md)", c.TokenSource, src.Kind, from)}
	}
	store := keystore.OS()
	sub, rest := args[0], args[1:]
	switch sub {
	case "set", "delete":
		fs := flags("key " + sub)
		region := fs.String("region", "", "Heidi region: AU, EU, UK, US or CA")
		if err := parse(fs, rest); err != nil {
			return err
		}
		r := strings.ToUpper(*region)
		if r == "" {
			return usageErr("key %s: --region is required (%s)", sub, strings.Join(heidiapi.Regions, ", "))
		}
		if err := request.ValidateRegion(r); err != nil {
			return usageErr("key %s: %v", sub, err)
		}
		if sub == "delete" {
			err := store.DeleteAPIKey(ctx, r)
			if errors.Is(err, keystore.ErrNotFound) {
				return &UserError{Code: ExitFailure, Msg: "there is no API key for region " + r}
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "Deleted the API key for %s.\n", r)
			notifyKeysChanged(ctx)
			return nil
		}
		key, err := readSecret(env, "Paste the Heidi API key for "+r+" (input hidden): ")
		if err != nil {
			return err
		}
		if err := keystore.ValidateKey(key); err != nil {
			return &UserError{Code: ExitUsage, Msg: err.Error()}
		}
		k := keystore.NewAPIKey(key)
		if err := store.SetAPIKey(ctx, r, k); err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "Stored the API key for %s (%s) in the OS keychain.\n", r, k.Masked())
		notifyKeysChanged(ctx)
		return nil
	case "status":
		if err := parse(flags("key status"), rest); err != nil {
			return err
		}
		keys, err := store.Status(ctx, heidiapi.Regions)
		if err != nil {
			return err
		}
		if len(keys) == 0 {
			fmt.Fprintln(env.Stdout, "No API keys stored. Add one with 'heidi-tray key set --region AU'.")
			return nil
		}
		for _, k := range keys {
			fmt.Fprintf(env.Stdout, "%s  %s\n", k.Region, k.Masked)
		}
		return nil
	}
	return usageErr("key: unknown subcommand %q; use set, status or delete", sub)
}

// readSecret reads one secret from standard input: hidden when it is a
// terminal, else the first line of a pipe. Never from argv.
func readSecret(env Env, prompt string) (string, error) {
	if f, ok := env.Stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(env.Stderr, prompt)
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(env.Stderr)
		if err != nil {
			return "", fmt.Errorf("reading from the terminal: %w", err)
		}
		return strings.TrimSpace(string(b)), nil
	}
	r := bufio.NewReader(io.LimitReader(env.Stdin, keystore.MaxKeyLen+2))
	line, err := r.ReadString('\n')
	if err != nil && err != io.EOF {
		return "", fmt.Errorf("reading standard input: %w", err)
	}
	line = strings.TrimRight(line, "\r\n")
	if len(line) > keystore.MaxKeyLen {
		return "", &UserError{Code: ExitUsage, Msg: fmt.Sprintf("the value on standard input is longer than %d bytes", keystore.MaxKeyLen)}
	}
	if strings.TrimSpace(line) == "" {
		return "", &UserError{Code: ExitUsage, Msg: "nothing on standard input; pipe the key in, e.g. 'heidi-tray key set --region AU < key.txt'"}
	}
	return strings.TrimSpace(line), nil
}

// notifyKeysChanged tells a running tray to read the keychain again (best
// effort: a tray that is not running reads it when it starts).
func notifyKeysChanged(ctx context.Context) {
	ep, err := ipc.DefaultEndpoint()
	if err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	ipc.NewClient(ep.Path).KeysChanged(ctx)
}
