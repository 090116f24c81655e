package browser

import (
	"errors"
	"fmt"
)

// macOS: browsers are started through LaunchServices (open(1)), never by
// exec'ing the binary inside the .app. The privacy system (TCC) charges a
// microphone request to the "responsible" process, and a plainly exec'd
// process inherits its parent's (heidi-tray, or the EMR that started it),
// which has no microphone usage description. open(1) makes the browser its
// own responsible app, and also finds browsers in ~/Applications. The
// command lines are built here, in a platform-neutral file, so that tests on
// any OS check them through Opener.launch.

// OpenTool is macOS's LaunchServices command-line front end.
const OpenTool = "/usr/bin/open"

// macAppBrowsers are the bundle ids tried for a chromeless --app window, in
// order: Google Chrome, then Microsoft Edge.
var macAppBrowsers = []string{"com.google.Chrome", "com.microsoft.edgemac"}

// MacAppArgv is the command that opens u in a new --app window of the app
// with this bundle id: -n starts a new instance even when the browser runs
// (which then hands the window to the running one, as Chrome does), -b finds
// it by bundle id wherever it is installed, and --args passes the rest to it.
func MacAppArgv(bundleID, u string) []string {
	return []string{OpenTool, "-n", "-b", bundleID, "--args", "--app=" + u}
}

// MacDefaultArgv opens u in the default browser.
func MacDefaultArgv(u string) []string { return []string{OpenTool, u} }

// openAppLS tries each browser in turn (open fails when no app has that
// bundle id), then the default browser. open returns once the app has been
// asked to open the window; it runs on its own goroutine all the same, as a
// cold browser start can take seconds.
func (o *Opener) openAppLS(u string) error {
	o.wg.Add(1)
	go func() {
		defer o.wg.Done()
		var errs []error
		for _, id := range macAppBrowsers {
			err := o.launch(MacAppArgv(id, u))
			if err == nil {
				return
			}
			errs = append(errs, fmt.Errorf("%s: %w", id, err))
		}
		o.log.Info("no Chrome or Edge for an app window; opening the default browser", "err", errors.Join(errs...))
		if err := o.launch(MacDefaultArgv(u)); err != nil {
			o.log.Warn("the default browser could not be opened; set the browser setting to a command", "err", err)
		}
	}()
	return nil
}

func (o *Opener) openDefaultLS(u string) error {
	o.wg.Add(1)
	go func() {
		defer o.wg.Done()
		if err := o.launch(MacDefaultArgv(u)); err != nil {
			o.log.Warn("the default browser could not be opened; set the browser setting to a command", "err", err)
		}
	}()
	return nil
}
