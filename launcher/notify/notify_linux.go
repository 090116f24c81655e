package notify

import (
	"context"
	"time"

	"github.com/godbus/dbus/v5"
	"github.com/heidi-tray/heidi-tray/keystore/sessionbus"
)

// send calls org.freedesktop.Notifications on the session bus, if there is
// one (never autolaunching a bus).
func send(title, body string) error {
	conn, err := sessionbus.Connect()
	if err != nil {
		return err
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	obj := conn.Object("org.freedesktop.Notifications", "/org/freedesktop/Notifications")
	return obj.CallWithContext(ctx, "org.freedesktop.Notifications.Notify", 0,
		"heidi-tray", uint32(0), "dialog-warning", title, body, []string{}, map[string]dbus.Variant{}, int32(15000)).Err
}
