//go:build cgo || !darwin

package tray

import (
	"context"

	"fyne.io/systray"
)

// menu is the tray's one menu; only loop touches it after it is built.
type menu struct {
	status, open, setup, autostart, logs, about, quit *systray.MenuItem
	autostartOn                                       bool
}

func run(ctx context.Context, cfg Config) {
	systray.SetTitle(barTitle(cfg.Initial)) // before Run: the item's id is read at export
	ready := func() {
		m := menu{
			status:    systray.AddMenuItem(cfg.Initial.Message, ""),
			open:      systray.AddMenuItem("Open Heidi", "Open Heidi for the last clinician"),
			setup:     systray.AddMenuItem("Set up…", "API keys, region, launch secret, connection test"),
			autostart: systray.AddMenuItemCheckbox("Start at login", "Start heidi-tray when you log in", cfg.Info.Autostart),
			logs:      systray.AddMenuItem("Open logs", "Open the folder with heidi-tray's log"),
			about:     systray.AddMenuItem(About(cfg.Info, cfg.Initial.Sandbox), ""),
		}
		systray.AddSeparator()
		m.quit = systray.AddMenuItem("Quit heidi-tray", "Stop heidi-tray")
		m.status.Disable()
		m.about.Disable()
		m.autostartOn = cfg.Info.Autostart
		m.apply(cfg.Initial)
		go m.loop(ctx, cfg)
	}
	stop := context.AfterFunc(ctx, systray.Quit)
	defer stop()
	systray.Run(ready, func() {})
}

func (m *menu) apply(s State) {
	setIcon(string(s.Kind))
	systray.SetTitle(barTitle(s))
	systray.SetTooltip(Title(s))
	m.status.SetTitle(s.Message)
	if s.CanOpen {
		m.open.Enable()
	} else {
		m.open.Disable()
	}
}

type click int

const (
	clickOpen click = iota
	clickSetup
	clickLogs
	clickAutostart
	clickQuit
)

// forward relays an item's clicks into the loop's buffered channel. The
// library drops a click when nobody is receiving at that instant, so each
// item has a goroutine that does nothing but receive.
func forward(ctx context.Context, item *systray.MenuItem, c click, clicks chan<- click) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-item.ClickedCh:
			select {
			case clicks <- c:
			default: // sixteen clicks already waiting: this one adds nothing
			}
		}
	}
}

// loop is the tray's one event loop: the only code that touches the menu.
func (m *menu) loop(ctx context.Context, cfg Config) {
	clicks := make(chan click, 16)
	for item, c := range map[*systray.MenuItem]click{m.open: clickOpen, m.setup: clickSetup, m.logs: clickLogs, m.autostart: clickAutostart, m.quit: clickQuit} {
		go forward(ctx, item, c, clicks)
	}
	act := func(fn func()) {
		if fn != nil {
			go fn()
		}
	}
	for {
		select {
		case <-ctx.Done():
			return
		case s := <-cfg.Updates:
			m.apply(s)
		case c := <-clicks:
			switch c {
			case clickOpen:
				act(cfg.Actions.Open)
			case clickSetup:
				act(cfg.Actions.Setup)
			case clickLogs:
				act(cfg.Actions.OpenLogs)
			case clickQuit:
				act(cfg.Actions.Quit)
			case clickAutostart:
				if cfg.Actions.Autostart != nil && cfg.Actions.Autostart(!m.autostartOn) == nil {
					m.autostartOn = !m.autostartOn
					if m.autostartOn {
						m.autostart.Check()
					} else {
						m.autostart.Uncheck()
					}
				}
			}
		}
	}
}
