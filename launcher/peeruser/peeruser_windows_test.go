package peeruser

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"testing"

	"golang.org/x/sys/windows"
)

// helperDial runs this test binary as a separate process (same user) that
// connects to addr.
func helperDial(t *testing.T, addr string) string {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(self)
	cmd.Env = append(os.Environ(), "PEERUSER_DIAL="+addr)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("helper: %v", err)
	}
	return string(out)
}

// Another process of this user: found in the real TCP table, its token read
// and compared (not the same-process fast path).
func TestOtherProcessOfThisUserIsServed(t *testing.T) {
	if got := helperDial(t, echoServer(t)); got != "served: hi" {
		t.Fatalf("another process of this user got %q", got)
	}
}

// The refusal path: the peer process's token names another user.
func TestPeerOfAnotherSIDIsRefused(t *testing.T) {
	system, err := windows.CreateWellKnownSid(windows.WinLocalSystemSid)
	if err != nil {
		t.Fatal(err)
	}
	orig := processSID
	processSID = func(uint32) (*windows.SID, error) { return system, nil }
	t.Cleanup(func() { processSID = orig })
	addr := echoServer(t)
	if got := helperDial(t, addr); !strings.HasPrefix(got, "closed:") {
		t.Fatalf("a peer running as SYSTEM got %q; want its connection closed", got)
	}
	if err := samePIDUser(4); !errors.Is(err, ErrOtherUser) {
		t.Fatalf("samePIDUser(another SID) = %v, want ErrOtherUser", err)
	}
	processSID = func(uint32) (*windows.SID, error) { return nil, windows.ERROR_ACCESS_DENIED }
	if err := samePIDUser(4); !errors.Is(err, ErrOtherUser) {
		t.Fatalf("samePIDUser(access denied) = %v, want ErrOtherUser", err)
	}
	processSID = func(uint32) (*windows.SID, error) { return nil, windows.ERROR_INVALID_PARAMETER }
	if err := samePIDUser(4); !errors.Is(err, ErrUnattributed) {
		t.Fatalf("samePIDUser(process gone) = %v, want ErrUnattributed", err)
	}
	// This process is always this user, whatever the lookup says.
	if err := samePIDUser(uint32(os.Getpid())); err != nil {
		t.Fatalf("samePIDUser(self) = %v", err)
	}
}

func TestFindOwnerInATable(t *testing.T) {
	src := netip.MustParseAddrPort("127.0.0.1:50123")
	dst := netip.MustParseAddrPort("127.0.0.1:8080")
	row := func(la, ra netip.AddrPort, pid uint32) []byte {
		r := make([]byte, rowSize4)
		binary.LittleEndian.PutUint32(r[0:], 5) // ESTABLISHED
		a, b := la.Addr().As4(), ra.Addr().As4()
		copy(r[4:], a[:])
		binary.BigEndian.PutUint16(r[8:], la.Port())
		copy(r[12:], b[:])
		binary.BigEndian.PutUint16(r[16:], ra.Port())
		binary.LittleEndian.PutUint32(r[20:], pid)
		return r
	}
	table := binary.LittleEndian.AppendUint32(nil, 2)
	table = append(table, row(dst, src, 111)...) // our own end, reversed
	table = append(table, row(src, dst, 222)...)
	if pid, ok := findOwner(table, false, src, dst); !ok || pid != 222 {
		t.Fatalf("findOwner = %d, %v; want 222", pid, ok)
	}
	if _, ok := findOwner(table, false, netip.MustParseAddrPort("127.0.0.1:50124"), dst); ok {
		t.Fatal("found a connection that is not in the table")
	}
	bad := binary.LittleEndian.AppendUint32(nil, 1000) // claims more rows than it has
	if _, ok := findOwner(bad, false, src, dst); ok {
		t.Fatal("a truncated table was read")
	}
}
