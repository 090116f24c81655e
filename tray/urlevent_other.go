//go:build !darwin || !cgo

package tray

import "time"

// No Apple Events here: URLs arrive in argv ('heidi-tray url -- URL').
const osPumps = false

func pumpEvents(time.Duration) {}
