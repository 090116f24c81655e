//go:build windows && tokenservice

package cli

import (
	"context"
	"log/slog"

	"golang.org/x/sys/windows/svc"
)

// serviceContext: under the Windows service manager, report running and end
// ctx when it asks us to stop; run from a console, do nothing.
func serviceContext(ctx context.Context, log *slog.Logger) (context.Context, func()) {
	isSvc, err := svc.IsWindowsService()
	if err != nil || !isSvc {
		return ctx, func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { // owned by serviceContext's caller through the returned func
		defer close(done)
		if err := svc.Run("heidi-tray-tokens", handler{cancel}); err != nil {
			log.Error("Windows service manager", "err", err)
		}
		cancel()
	}()
	return ctx, func() { cancel(); <-done }
}

type handler struct{ stop context.CancelFunc }

func (h handler) Execute(_ []string, req <-chan svc.ChangeRequest, status chan<- svc.Status) (bool, uint32) {
	status <- svc.Status{State: svc.Running, Accepts: svc.AcceptStop | svc.AcceptShutdown}
	for r := range req {
		switch r.Cmd {
		case svc.Interrogate:
			status <- r.CurrentStatus
		case svc.Stop, svc.Shutdown:
			status <- svc.Status{State: svc.StopPending}
			h.stop()
			return false, 0
		}
	}
	return false, 0
}
