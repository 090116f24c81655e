package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/heidi-tray/heidi-tray/launcher/ipc"
)

// forwardURLs hands URLs the OS delivered to this process to the running
// tray over IPC, where they are judged like any other (the 'url' command's
// path). Each failure is logged and reported; the others still go.
func forwardURLs(ctx context.Context, c *ipc.Client, urls []string, log *slog.Logger) error {
	var errs []error
	for _, u := range urls {
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		_, err := c.OpenURL(cctx, u)
		cancel()
		if err != nil {
			log.Warn("forwarding a URL to the running tray failed", "err", err)
			errs = append(errs, apiErr(err))
			continue
		}
		log.Info("URL forwarded to the running tray")
	}
	if err := errors.Join(errs...); err != nil {
		return &UserError{Code: ExitFailure, Msg: fmt.Sprintf("heidi-tray is already running; handing it %d of %d URLs failed: %s", len(errs), len(urls), oneLine(err.Error()))}
	}
	return nil
}
