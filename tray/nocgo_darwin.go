//go:build darwin && !cgo

package tray

import "context"

// Without cgo there is no Cocoa tray; such builds only serve (and vet).
func hostMissing() string { return "this build has no cgo, so no macOS tray" }

func run(ctx context.Context, _ Config) { <-ctx.Done() }

func watcherMissing() string { return "" }
