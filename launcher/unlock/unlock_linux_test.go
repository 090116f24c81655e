package unlock

import (
	"os/exec"
	"testing"

	"go.uber.org/goleak"

	"github.com/heidi-tray/heidi-tray/launcher/testrig"
)

// A real (private) session bus: a screen saver's ActiveChanged(false), as
// GNOME and the freedesktop screen savers send it, is an unlock;
// ActiveChanged(true) (locking) is not. Stop leaves no goroutine behind.
func TestScreenSaverUnlockIsReported(t *testing.T) {
	defer goleak.VerifyNone(t)
	testrig.SessionBus(t)
	unlocks := make(chan struct{}, 4)
	w, err := Watch(func() { unlocks <- struct{}{} })
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	send := func(iface, active string) {
		t.Helper()
		if out, err := exec.Command("dbus-send", "--session", "--type=signal", "/org/gnome/ScreenSaver", iface+".ActiveChanged", "boolean:"+active).CombinedOutput(); err != nil {
			t.Fatalf("dbus-send: %v %s", err, out)
		}
	}
	send("org.gnome.ScreenSaver", "true")
	send("org.freedesktop.ScreenSaver", "false")
	<-unlocks
	send("org.gnome.ScreenSaver", "false")
	<-unlocks
	w.Stop()
	select {
	case <-unlocks:
		t.Fatal("locking was reported as an unlock")
	default:
	}
}
