//go:build cgo || !darwin

package tray

import (
	"context"

	"fyne.io/systray"
)

type menu struct {
	status, open, quit *systray.MenuItem
}

func run(ctx context.Context, cfg Config) {
	systray.SetTitle(Title(cfg.Initial)) // before Run: the item's id is read at export
	ready := func() {
		m := menu{
			status: systray.AddMenuItem(cfg.Initial.Message, ""),
			open:   systray.AddMenuItem("Open Heidi", "Open Heidi for the last clinician"),
		}
		systray.AddSeparator()
		m.quit = systray.AddMenuItem("Quit heidi-tray", "Stop heidi-tray")
		m.status.Disable()
		m.apply(cfg.Initial)
		go m.loop(ctx, cfg)
	}
	stop := context.AfterFunc(ctx, systray.Quit)
	defer stop()
	systray.Run(ready, func() {})
}

func (m *menu) apply(s State) {
	systray.SetIcon(platformIcon(Icon(s.Kind)))
	systray.SetTitle(Title(s))
	systray.SetTooltip(Title(s))
	m.status.SetTitle(s.Message)
	if s.CanOpen {
		m.open.Enable()
	} else {
		m.open.Disable()
	}
}

// loop is the tray's one event loop.
func (m *menu) loop(ctx context.Context, cfg Config) {
	for {
		select {
		case <-ctx.Done():
			return
		case s := <-cfg.Updates:
			m.apply(s)
		case <-m.open.ClickedCh:
			if cfg.Actions.Open != nil {
				go cfg.Actions.Open()
			}
		case <-m.quit.ClickedCh:
			if cfg.Actions.Quit != nil {
				go cfg.Actions.Quit()
			}
		}
	}
}
