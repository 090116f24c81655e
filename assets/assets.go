// Package assets embeds what heidi-tray shows: the widget page, the sandbox
// stand-in for Heidi's widget SDK, and the tray icons.
package assets

import "embed"

// Web is served by the page server under /assets/.
//
//go:embed web sdk
var Web embed.FS

// Icons are the tray icons, one per state.
//
//go:embed icons/*.png icons/*.ico
var Icons embed.FS
