package unlock

import (
	"sync"

	"github.com/godbus/dbus/v5"

	"github.com/heidi-tray/heidi-tray/keystore/sessionbus"
)

// Screen savers announce unlocking as ActiveChanged(false) on the session
// bus: GNOME under its own name, KDE, Xfce, Cinnamon and MATE under the
// freedesktop one.
var interfaces = []string{"org.gnome.ScreenSaver", "org.freedesktop.ScreenSaver"}

type busWatcher struct {
	conn *dbus.Conn
	ch   chan *dbus.Signal
	done chan struct{}
	once sync.Once
}

func watch(onUnlock func()) (Watcher, error) {
	conn, err := sessionbus.Connect()
	if err != nil {
		return none{}, err
	}
	for _, iface := range interfaces {
		if err := conn.AddMatchSignal(dbus.WithMatchInterface(iface), dbus.WithMatchMember("ActiveChanged")); err != nil {
			conn.Close()
			return none{}, err
		}
	}
	w := &busWatcher{conn: conn, ch: make(chan *dbus.Signal, 8), done: make(chan struct{})}
	conn.Signal(w.ch)
	go func() {
		defer close(w.done)
		for s := range w.ch {
			if active, ok := activeArg(s); ok && !active {
				onUnlock()
			}
		}
	}()
	return w, nil
}

func activeArg(s *dbus.Signal) (bool, bool) {
	if s == nil || len(s.Body) != 1 {
		return false, false
	}
	for _, iface := range interfaces {
		if s.Name == iface+".ActiveChanged" {
			b, ok := s.Body[0].(bool)
			return b, ok
		}
	}
	return false, false
}

// Stop closes the bus connection (godbus then closes the signal channel)
// and waits for the goroutine.
func (w *busWatcher) Stop() {
	w.once.Do(func() {
		w.conn.Close()
		<-w.done
	})
}
