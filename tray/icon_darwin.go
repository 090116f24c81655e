//go:build darwin && cgo

package tray

import "fyne.io/systray"

// setIcon: a template image per state, which the menu bar tints for light
// and dark.
func setIcon(kind string) { systray.SetTemplateIcon(TemplateIcon(kind), Icon(kind)) }

// barTitle: the menu bar has no room for the status line (the menu has it).
func barTitle(s State) string { return MenuBarTitle(s) }
