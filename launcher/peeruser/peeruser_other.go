//go:build !linux && !windows && !darwin

package peeruser

import (
	"context"
	"fmt"
	"net/netip"
)

// checkPeer: this OS has no socket-owner lookup here, so nothing is attributed.
func checkPeer(_ context.Context, local, peer netip.AddrPort) error {
	return fmt.Errorf("%w: not supported on this OS", ErrUnattributed)
}
