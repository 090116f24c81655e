//go:build darwin && cgo

package tray

import "fyne.io/systray"

// setIcon: a template image, which the menu bar tints for light and dark.
func setIcon(kind string) { systray.SetTemplateIcon(iconFile("template", ".png"), Icon(kind)) }
