//go:build !darwin

package browser

func (o *Opener) openDefault(u string) error { return o.openWithPkgBrowser(u) }

// openApp opens a chromeless --app window, else the default browser.
func (o *Opener) openApp(u string) error {
	if exe, args, ok := o.appCommand(u); ok {
		return o.start(exe, args)
	}
	return o.openDefault(u)
}
