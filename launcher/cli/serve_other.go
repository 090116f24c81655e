//go:build !windows

package cli

import (
	"context"
	"log/slog"
)

// serviceContext: on Unix the service manager (systemd) stops us by signal.
func serviceContext(ctx context.Context, _ *slog.Logger) (context.Context, func()) {
	return ctx, func() {}
}
