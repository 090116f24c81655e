package peeruser

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"strconv"
	"sync/atomic"
	"syscall"

	"golang.org/x/sys/unix"
)

// checkPeer finds the peer's socket in the kernel's table and compares its
// owner with this process's uid: first by an exact sock_diag lookup (one
// netlink round trip, however many sockets the host has), else by reading
// /proc/net/tcp{,6}, e.g. where netlink sock_diag is not available.
func checkPeer(_ context.Context, local, peer netip.AddrPort) error {
	uid, err := socketUID(peer, local)
	if err != nil {
		return err
	}
	if uid != uint32(os.Getuid()) {
		return fmt.Errorf("%w (uid %d)", ErrOtherUser, uid)
	}
	return nil
}

// noSockDiag is set once sock_diag has failed for a reason other than "no
// such socket", so later checks go straight to /proc.
var noSockDiag atomic.Bool

// socketUID is the owner of the TCP socket whose local end is src and remote
// end is dst.
func socketUID(src, dst netip.AddrPort) (uint32, error) {
	if !noSockDiag.Load() {
		uid, err := sockDiagUID(src, dst)
		if err == nil {
			return uid, nil
		}
		if errors.Is(err, errNoSocket) && src.Addr().Is4() {
			// An IPv6 socket connected to a v4-mapped address.
			uid, err = sockDiagUID(mapped(src), mapped(dst))
			if err == nil {
				return uid, nil
			}
		}
		if errors.Is(err, errNoSocket) {
			return 0, fmt.Errorf("%w: no socket %s -> %s in the kernel's table", ErrUnattributed, src, dst)
		}
		noSockDiag.Store(true)
	}
	return procNetUID(src, dst)
}

var errNoSocket = errors.New("no such socket")

// Kernel ABI (linux/sock_diag.h, linux/inet_diag.h).
const (
	sockDiagByFamily = 20
	inetDiagNoCookie = ^uint32(0)
	sizeofReqV2      = 56 // family, protocol, ext, pad, states u32, sockid (48)
	sizeofDiagMsg    = 72 // family, state, timer, retrans, sockid (48), expires, rqueue, wqueue, uid, inode
)

func sockDiagUID(src, dst netip.AddrPort) (uint32, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, unix.NETLINK_SOCK_DIAG)
	if err != nil {
		return 0, fmt.Errorf("sock_diag socket: %w", err)
	}
	defer unix.Close(fd)
	tv := unix.NsecToTimeval(int64(2e9)) // a kernel answer is immediate; never hang the accept loop
	unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv)

	family := byte(unix.AF_INET)
	if src.Addr().Is6() {
		family = unix.AF_INET6
	}
	req := make([]byte, unix.NLMSG_HDRLEN+sizeofReqV2)
	ne := binary.NativeEndian
	ne.PutUint32(req[0:], uint32(len(req)))
	ne.PutUint16(req[4:], sockDiagByFamily)
	ne.PutUint16(req[6:], unix.NLM_F_REQUEST) // an exact lookup, not a dump
	ne.PutUint32(req[8:], 1)
	r := req[unix.NLMSG_HDRLEN:]
	r[0], r[1] = family, unix.IPPROTO_TCP
	ne.PutUint32(r[4:], 0xffffffff) // any state
	id := r[8:]
	binary.BigEndian.PutUint16(id[0:], src.Port())
	binary.BigEndian.PutUint16(id[2:], dst.Port())
	putAddr(id[4:20], src.Addr())
	putAddr(id[20:36], dst.Addr())
	ne.PutUint32(id[40:], inetDiagNoCookie)
	ne.PutUint32(id[44:], inetDiagNoCookie)
	if err := unix.Sendto(fd, req, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return 0, fmt.Errorf("sock_diag send: %w", err)
	}
	buf := make([]byte, 1024)
	n, _, err := unix.Recvfrom(fd, buf, 0)
	if err != nil {
		return 0, fmt.Errorf("sock_diag receive: %w", err)
	}
	msgs, err := syscall.ParseNetlinkMessage(buf[:n])
	if err != nil || len(msgs) == 0 {
		return 0, fmt.Errorf("sock_diag: unreadable answer: %v", err)
	}
	m := msgs[0]
	switch m.Header.Type {
	case unix.NLMSG_ERROR:
		if len(m.Data) >= 4 {
			if errno := -int32(ne.Uint32(m.Data)); errno == int32(unix.ENOENT) {
				return 0, errNoSocket
			} else {
				return 0, fmt.Errorf("sock_diag: %w", syscall.Errno(errno))
			}
		}
		return 0, errors.New("sock_diag: short error")
	case sockDiagByFamily:
		if len(m.Data) < sizeofDiagMsg {
			return 0, errors.New("sock_diag: short answer")
		}
		// The kernel matched the socket exactly; check anyway that it is the one asked for.
		got := m.Data[4:52]
		if !bytes.Equal(got[0:36], id[0:36]) {
			return 0, errors.New("sock_diag: answered for another socket")
		}
		return ne.Uint32(m.Data[64:]), nil
	}
	return 0, fmt.Errorf("sock_diag: unexpected message type %d", m.Header.Type)
}

func mapped(a netip.AddrPort) netip.AddrPort {
	return netip.AddrPortFrom(netip.AddrFrom16(a.Addr().As16()), a.Port())
}

// putAddr writes an address as the kernel's __be32[4]: an IPv4 address in
// the first word.
func putAddr(b []byte, a netip.Addr) {
	if a.Is4() {
		v := a.As4()
		copy(b, v[:])
		return
	}
	v := a.As16()
	copy(b, v[:])
}

// procNetUID scans /proc/net/tcp (or tcp6) for the socket src -> dst.
func procNetUID(src, dst netip.AddrPort) (uint32, error) {
	file := "/proc/net/tcp"
	if src.Addr().Is6() {
		file = "/proc/net/tcp6"
	}
	f, err := os.Open(file)
	if err != nil {
		return 0, fmt.Errorf("%w: %v", ErrUnattributed, err)
	}
	defer f.Close()
	want := procAddr(src) + " " + procAddr(dst)
	sc := bufio.NewScanner(f)
	sc.Scan() // header
	for sc.Scan() {
		if uid, ok := matchProcLine(sc.Bytes(), want); ok {
			return uid, nil
		}
	}
	if err := sc.Err(); err != nil {
		return 0, fmt.Errorf("%w: reading %s: %v", ErrUnattributed, file, err)
	}
	return 0, fmt.Errorf("%w: no socket %s -> %s in %s", ErrUnattributed, src, dst, file)
}

// matchProcLine reads one line of /proc/net/tcp:
//
//	sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid ...
func matchProcLine(line []byte, want string) (uint32, bool) {
	f := bytes.Fields(line)
	if len(f) < 8 || string(f[1])+" "+string(f[2]) != want {
		return 0, false
	}
	uid, err := strconv.ParseUint(string(f[7]), 10, 32)
	return uint32(uid), err == nil
}

// procAddr formats an address the way /proc/net/tcp does: each 32-bit word
// of the address in host byte order, in hex, then the port.
func procAddr(a netip.AddrPort) string {
	var raw []byte
	if a.Addr().Is4() {
		v := a.Addr().As4()
		raw = v[:]
	} else {
		v := a.Addr().As16()
		raw = v[:]
	}
	var b []byte
	for i := 0; i < len(raw); i += 4 {
		w := binary.NativeEndian.Uint32(raw[i:])
		b = fmt.Appendf(b, "%08X", w)
	}
	return fmt.Sprintf("%s:%04X", b, a.Port())
}
