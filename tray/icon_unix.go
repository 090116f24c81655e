//go:build !windows && !darwin

package tray

import "fyne.io/systray"

// setIcon: StatusNotifierItem hosts take PNG.
func setIcon(kind string) { systray.SetIcon(Icon(kind)) }
