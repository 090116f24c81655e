package peeruser

import (
	"net/netip"
	"os"
	"testing"
)

// The /proc fallback finds the same owner as sock_diag.
func TestProcNetFallback(t *testing.T) {
	_, server := loopbackPair(t)
	local, peer, err := addrs(server)
	if err != nil {
		t.Fatal(err)
	}
	uid, err := procNetUID(peer, local)
	if err != nil || uid != uint32(os.Getuid()) {
		t.Fatalf("procNetUID = %d, %v; want %d", uid, err, os.Getuid())
	}
	uid, err = sockDiagUID(peer, local)
	if err != nil || uid != uint32(os.Getuid()) {
		t.Fatalf("sockDiagUID = %d, %v; want %d", uid, err, os.Getuid())
	}
	if _, err := procNetUID(netipPort(peer, 1), local); err == nil {
		t.Fatal("procNetUID found a socket that does not exist")
	}
}

func netipPort(a netip.AddrPort, port uint16) netip.AddrPort {
	return netip.AddrPortFrom(a.Addr(), port)
}
