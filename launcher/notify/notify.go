// Package notify shows desktop notifications for what the clinician must act
// on (a refused launch, a rejected key). Failing to notify is never fatal.
package notify

import "log/slog"

// Notifier sends notifications; the zero value logs only.
type Notifier struct {
	Log     *slog.Logger
	Sandbox bool
}

// Send shows title and body, best effort.
func (n Notifier) Send(title, body string) {
	if n.Sandbox {
		title = "SANDBOX · " + title
	}
	if err := send(title, body); err != nil && n.Log != nil {
		n.Log.Info("desktop notification not shown", "err", err)
	}
}
