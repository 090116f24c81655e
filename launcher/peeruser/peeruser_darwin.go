package peeruser

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"strconv"
	"time"
)

// checkPeer asks lsof, run as this user, for this user's TCP sockets on the
// peer's address, and looks for the one connected to us. macOS shows a user
// only its own processes' sockets (proc_pidfdinfo checks the caller's uid),
// so finding it proves the owner; anything else, including lsof failing, is
// refused. Slower than Linux or Windows (tens of milliseconds), paid once
// per browser connection, off the accept loop (Listener). An IPv6 socket
// connecting to 127.0.0.1 shows as [::ffff:127.0.0.1] and is refused: the
// page's browsers connect over IPv4 to the address they were given.
func checkPeer(ctx context.Context, local, peer netip.AddrPort) error {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "/usr/sbin/lsof", "-nP", "-a", "-u", strconv.Itoa(os.Getuid()),
		"-iTCP@"+lsofHost(peer.Addr())+":"+strconv.Itoa(int(peer.Port())), "-Fn")
	out, err := cmd.Output()
	if err != nil && len(out) == 0 { // lsof exits 1 when it lists nothing
		return fmt.Errorf("%w: lsof found no socket of this user at %s: %v", ErrUnattributed, peer, err)
	}
	want := "n" + lsofAddr(peer) + "->" + lsofAddr(local)
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if sc.Text() == want {
			return nil
		}
	}
	return fmt.Errorf("%w: no socket %s -> %s among this user's", ErrUnattributed, peer, local)
}

func lsofHost(a netip.Addr) string {
	if a.Is6() {
		return "[" + a.String() + "]"
	}
	return a.String()
}

func lsofAddr(a netip.AddrPort) string {
	return lsofHost(a.Addr()) + ":" + strconv.Itoa(int(a.Port()))
}
