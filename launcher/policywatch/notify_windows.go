package policywatch

import (
	"context"
	"log/slog"
	"runtime"

	"golang.org/x/sys/windows"
	"golang.org/x/sys/windows/registry"
)

// policyParent is watched rather than Software\Policies\heidi-tray itself,
// which Group Policy creates and deletes.
const policyParent = `Software\Policies`

// notifyPolicy signals when anything under HKLM or HKCU Software\Policies
// changes (RegNotifyChangeKeyValue). watching is false when the keys cannot
// be watched; the caller then re-reads the policy on every tick.
func notifyPolicy(ctx context.Context, log *slog.Logger) (<-chan struct{}, bool) {
	changed := make(chan struct{}, 1)
	ready := make(chan bool)
	go func() { // owned by ctx: ends when it does
		// A notification belongs to the thread that asked for it.
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		var handles []windows.Handle
		var keys []registry.Key
		stopped := make(chan struct{})
		close(stopped) // until the stopper below runs
		defer func() {
			<-stopped // it may still set the event: close nothing under it
			for _, k := range keys {
				k.Close()
			}
			for _, h := range handles {
				windows.CloseHandle(h)
			}
		}()
		stop, err := windows.CreateEvent(nil, 1, 0, nil)
		if err != nil {
			ready <- false
			return
		}
		handles = append(handles, stop)
		for _, root := range []registry.Key{registry.LOCAL_MACHINE, registry.CURRENT_USER} {
			k, err := registry.OpenKey(root, policyParent, registry.NOTIFY)
			if err != nil {
				log.Debug("cannot watch the policy key; polling it", "key", policyParent, "err", err)
				ready <- false
				return
			}
			keys = append(keys, k)
			ev, err := windows.CreateEvent(nil, 0, 0, nil)
			if err != nil {
				ready <- false
				return
			}
			handles = append(handles, ev)
		}
		arm := func() bool {
			for i, k := range keys {
				if err := windows.RegNotifyChangeKeyValue(windows.Handle(k), true,
					windows.REG_NOTIFY_CHANGE_NAME|windows.REG_NOTIFY_CHANGE_LAST_SET, handles[i+1], true); err != nil {
					log.Debug("cannot watch the policy key; polling it", "err", err)
					return false
				}
			}
			return true
		}
		if !arm() {
			ready <- false
			return
		}
		ready <- true
		stopped = make(chan struct{})
		go func() { defer close(stopped); <-ctx.Done(); windows.SetEvent(stop) }()
		for {
			ev, err := windows.WaitForMultipleObjects(handles, false, windows.INFINITE)
			if err != nil || ev == windows.WAIT_OBJECT_0 {
				return
			}
			select {
			case changed <- struct{}{}:
			default:
			}
			if !arm() {
				return
			}
		}
	}()
	return changed, <-ready
}
