package peeruser

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"sync"
	"time"
	"unsafe"

	"golang.org/x/sys/windows"
)

// checkPeer finds the peer's connection in the TCP table with its owning
// process (GetExtendedTcpTable), then compares that process's token user
// with this process's. A process this user may not even query belongs to
// someone else.
func checkPeer(_ context.Context, local, peer netip.AddrPort) error {
	var pid uint32
	var found bool
	// A connection made a moment ago can show without its owner yet (pid
	// 0, seen under Wine): look again briefly before refusing.
	for _, wait := range []time.Duration{0, time.Millisecond, 5 * time.Millisecond, 20 * time.Millisecond} {
		time.Sleep(wait)
		table, err := tcpTable(peer.Addr().Is6())
		if err != nil {
			return fmt.Errorf("%w: %v", ErrUnattributed, err)
		}
		// Gone is final (no waiting on whoever connects and resets at once).
		if pid, found = findOwner(table, peer.Addr().Is6(), peer, local); !found || pid != 0 {
			break
		}
	}
	if !found {
		return fmt.Errorf("%w: no connection %s -> %s in the TCP table", ErrUnattributed, peer, local)
	}
	if pid == 0 {
		return fmt.Errorf("%w: the TCP table names no process for %s -> %s", ErrUnattributed, peer, local)
	}
	return samePIDUser(pid)
}

// samePIDUser: the fast path is this process itself; otherwise the token.
func samePIDUser(pid uint32) error {
	if pid == uint32(os.Getpid()) {
		return nil
	}
	own, err := selfSID()
	if err != nil {
		return fmt.Errorf("%w: this process's user: %v", ErrUnattributed, err)
	}
	sid, err := processSID(pid)
	if errors.Is(err, windows.ERROR_ACCESS_DENIED) {
		return fmt.Errorf("%w (process %d cannot be queried by this user)", ErrOtherUser, pid)
	}
	if err != nil {
		return fmt.Errorf("%w: process %d: %v", ErrUnattributed, pid, err)
	}
	if !windows.EqualSid(sid, own) {
		return fmt.Errorf("%w (process %d runs as %s)", ErrOtherUser, pid, sid)
	}
	return nil
}

// processSID is the token user of a process (a variable so tests can play
// another user).
var processSID = func(pid uint32) (*windows.SID, error) {
	h, err := windows.OpenProcess(windows.PROCESS_QUERY_LIMITED_INFORMATION, false, pid)
	if err != nil {
		return nil, err
	}
	defer windows.CloseHandle(h)
	var tok windows.Token
	if err := windows.OpenProcessToken(h, windows.TOKEN_QUERY, &tok); err != nil {
		return nil, err
	}
	defer tok.Close()
	u, err := tok.GetTokenUser()
	if err != nil {
		return nil, err
	}
	return u.User.Sid.Copy()
}

var selfSID = sync.OnceValues(func() (*windows.SID, error) {
	u, err := windows.GetCurrentProcessToken().GetTokenUser()
	if err != nil {
		return nil, err
	}
	return u.User.Sid.Copy()
})

const tcpTableOwnerPIDConnections = 4 // TCP_TABLE_OWNER_PID_CONNECTIONS

var (
	iphlpapi            = windows.NewLazySystemDLL("iphlpapi.dll")
	getExtendedTcpTable = iphlpapi.NewProc("GetExtendedTcpTable")
)

// tcpTable is the raw MIB_TCPTABLE_OWNER_PID (or MIB_TCP6TABLE_OWNER_PID)
// of connected sockets.
func tcpTable(v6 bool) ([]byte, error) {
	family := uintptr(windows.AF_INET)
	if v6 {
		family = windows.AF_INET6
	}
	size := uint32(16 << 10)
	for range 5 { // the table can grow between calls
		buf := make([]byte, size)
		r, _, _ := getExtendedTcpTable.Call(uintptr(unsafe.Pointer(&buf[0])), uintptr(unsafe.Pointer(&size)), 0, family, tcpTableOwnerPIDConnections, 0)
		switch windows.Errno(r) {
		case 0:
			return buf[:min(int(size), len(buf))], nil
		case windows.ERROR_INSUFFICIENT_BUFFER:
			if size > 64<<20 {
				return nil, fmt.Errorf("GetExtendedTcpTable wants %d bytes", size)
			}
			continue
		default:
			return nil, fmt.Errorf("GetExtendedTcpTable: %w", windows.Errno(r))
		}
	}
	return nil, errors.New("GetExtendedTcpTable: the table kept growing")
}

// Row layouts (iprtrmib.h). Addresses are in network byte order; a port is
// the low 16 bits of a DWORD, in network byte order.
const (
	rowSize4 = 24 // state, local addr, local port, remote addr, remote port, pid
	rowSize6 = 56 // local addr[16], scope, port, remote addr[16], scope, port, state, pid
)

// findOwner returns the owning pid of the connection src -> dst in a raw
// table.
func findOwner(table []byte, v6 bool, src, dst netip.AddrPort) (uint32, bool) {
	if len(table) < 4 {
		return 0, false
	}
	n := int(binary.LittleEndian.Uint32(table))
	row, first := rowSize4, 4
	if v6 {
		row = rowSize6
	}
	if n < 0 || n > (len(table)-first)/row {
		return 0, false
	}
	for i := range n {
		r := table[first+i*row : first+(i+1)*row]
		var la, ra netip.Addr
		var lp, rp uint16
		var pid uint32
		if v6 {
			la, ra = netip.AddrFrom16([16]byte(r[0:16])), netip.AddrFrom16([16]byte(r[24:40]))
			lp, rp = binary.BigEndian.Uint16(r[20:]), binary.BigEndian.Uint16(r[44:])
			pid = binary.LittleEndian.Uint32(r[52:])
		} else {
			la, ra = netip.AddrFrom4([4]byte(r[4:8])), netip.AddrFrom4([4]byte(r[12:16]))
			lp, rp = binary.BigEndian.Uint16(r[8:]), binary.BigEndian.Uint16(r[16:])
			pid = binary.LittleEndian.Uint32(r[20:])
		}
		if la == src.Addr() && lp == src.Port() && ra == dst.Addr() && rp == dst.Port() {
			return pid, true
		}
	}
	return 0, false
}
