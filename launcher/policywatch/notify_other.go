//go:build !windows

package policywatch

import (
	"context"
	"log/slog"
)

// notifyPolicy: outside Windows policy lives in files (macOS managed
// preferences), which Files polls; there is nothing else to watch.
func notifyPolicy(ctx context.Context, log *slog.Logger) (<-chan struct{}, bool) {
	return nil, true
}
