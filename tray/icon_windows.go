package tray

import "fyne.io/systray"

// setIcon: the Windows tray takes .ico data; ours has 16–64 px images, so
// the shell never scales a single bitmap (blurry at 125–150 %).
func setIcon(kind string) { systray.SetIcon(iconFile(kind, ".ico")) }

// barTitle: Windows shows no title; the tooltip has the status.
func barTitle(s State) string { return Title(s) }
