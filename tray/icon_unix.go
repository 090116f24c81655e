//go:build !windows && !darwin

package tray

import "fyne.io/systray"

// setIcon: StatusNotifierItem hosts take PNG.
func setIcon(kind string) { systray.SetIcon(Icon(kind)) }

// barTitle: some hosts show the title as the tooltip.
func barTitle(s State) string { return Title(s) }
