//go:build linux || darwin

package ipc

import (
	"fmt"
	"net"
	"syscall"
)

var errConnRefused = syscall.ECONNREFUSED

// peerUID is the uid of the process at the other end of a Unix socket; the
// kernel call that asks is each OS's own (fdPeerUID).
func peerUID(c net.Conn) (int, error) {
	uc, ok := c.(*net.UnixConn)
	if !ok {
		return -1, fmt.Errorf("not a unix connection")
	}
	raw, err := uc.SyscallConn()
	if err != nil {
		return -1, err
	}
	uid, cerr := -1, error(nil)
	if err := raw.Control(func(fd uintptr) { uid, cerr = fdPeerUID(int(fd)) }); err != nil {
		return -1, err
	}
	return uid, cerr
}
