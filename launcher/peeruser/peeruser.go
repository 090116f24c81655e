// Package peeruser answers one question for a loopback TCP server on a shared
// host: does the process at the other end of this connection run as the same
// OS user as this one? On a terminal server every user shares 127.0.0.1, so a
// port is reachable by all of them; heidi-tray's page server must answer only
// the user at this screen.
//
// The peer of a loopback connection is a socket on this machine, so the OS can
// name its owner: on Linux the kernel's socket table (sock_diag, else
// /proc/net/tcp), on Windows the TCP table's owning process and its token, on
// macOS the user's own processes' sockets. A connection that cannot be
// attributed is refused.
package peeruser

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"time"
)

// ErrOtherUser: the peer runs as another OS user.
var ErrOtherUser = errors.New("the connection comes from another OS user")

// ErrUnattributed: the OS could not say who owns the peer socket.
var ErrUnattributed = errors.New("the connection could not be attributed to an OS user")

// Check returns nil if the peer of c, a TCP connection this process accepted
// on a loopback address, belongs to this process's OS user; otherwise an
// error wrapping ErrOtherUser or ErrUnattributed.
func Check(c net.Conn) error { return check(context.Background(), c) }

func check(ctx context.Context, c net.Conn) error {
	local, peer, err := addrs(c)
	if err != nil {
		return err
	}
	return checkPeer(ctx, local, peer)
}

func addrs(c net.Conn) (local, peer netip.AddrPort, err error) {
	la, ok1 := c.LocalAddr().(*net.TCPAddr)
	ra, ok2 := c.RemoteAddr().(*net.TCPAddr)
	if !ok1 || !ok2 {
		return local, peer, fmt.Errorf("%w: not a TCP connection", ErrUnattributed)
	}
	local, peer = la.AddrPort(), ra.AddrPort()
	local = netip.AddrPortFrom(local.Addr().Unmap(), local.Port())
	peer = netip.AddrPortFrom(peer.Addr().Unmap(), peer.Port())
	if !peer.Addr().IsLoopback() {
		return local, peer, fmt.Errorf("%w: %s is not a loopback address", ErrOtherUser, peer.Addr())
	}
	return local, peer, nil
}

// maxChecking bounds the connections being attributed at once; the
// accept loop waits beyond it.
const maxChecking = 32

// Listener wraps l so that Accept returns only connections from this OS
// user; any other is closed at once, before a byte is read from it. Each
// connection is attributed in a goroutine of its own, so a slow check (lsof
// on macOS) delays only that connection. Close stops the accept loop and
// waits for the checks.
func Listener(l net.Listener, log *slog.Logger) net.Listener {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return newListener(l, check, log)
}

func newListener(l net.Listener, check func(context.Context, net.Conn) error, log *slog.Logger) *listener {
	ctx, cancel := context.WithCancel(context.Background())
	return &listener{Listener: l, check: check, log: log, ctx: ctx, cancel: cancel,
		ready: make(chan net.Conn), errs: make(chan error), asking: make(chan struct{}), done: make(chan struct{}), slots: make(chan struct{}, maxChecking)}
}

type listener struct {
	net.Listener
	check  func(context.Context, net.Conn) error
	log    *slog.Logger
	ctx    context.Context // ends at Close: checks still running give up
	cancel context.CancelFunc

	life    sync.Mutex // starting the accept loop vs Close
	started bool
	closed  bool
	ready   chan net.Conn // attributed connections
	errs    chan error    // from the wrapped Accept
	asking  chan struct{} // unbuffered: a caller is waiting in Accept
	done    chan struct{} // closed by Close
	slots   chan struct{}
	wg      sync.WaitGroup // the accept loop and the checks

	mu         sync.Mutex
	lastLog    time.Time
	suppressed int
}

func (l *listener) Accept() (net.Conn, error) {
	l.life.Lock()
	if !l.started && !l.closed {
		l.started = true
		l.wg.Add(1)
		go l.acceptLoop()
	}
	l.life.Unlock()
	for {
		select {
		case c := <-l.ready:
			return c, nil
		case err := <-l.errs:
			return nil, err
		case l.asking <- struct{}{}: // the loop resumes for this call
		case <-l.done:
			return nil, net.ErrClosed
		}
	}
}

func (l *listener) acceptLoop() {
	defer l.wg.Done()
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			select { // http.Server retries temporary errors; it stops on ErrClosed
			case l.errs <- err:
			case <-l.done:
				return
			}
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// Accept again only once a caller waits: http.Server backs off
			// after a temporary error (EMFILE), then must see a fresh result.
			select {
			case <-l.asking:
			case <-l.done:
				return
			}
			continue
		}
		select {
		case l.slots <- struct{}{}:
		case <-l.done:
			c.Close()
			return
		}
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			defer func() { <-l.slots }()
			if err := l.check(l.ctx, c); err != nil {
				l.refused(c.RemoteAddr(), err)
				c.Close()
				return
			}
			select {
			case l.ready <- c:
			case <-l.done:
				c.Close()
			}
		}()
	}
}

func (l *listener) Close() error {
	l.life.Lock()
	if l.closed {
		l.life.Unlock()
		return net.ErrClosed
	}
	l.closed = true
	close(l.done)
	l.cancel()
	l.life.Unlock()
	err := l.Listener.Close()
	l.wg.Wait()
	return err
}

// refused logs a refusal at most every 10 s: another user must not be able
// to fill the clinician's log by connecting in a loop.
func (l *listener) refused(from net.Addr, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	if now.Sub(l.lastLog) < 10*time.Second {
		l.suppressed++
		return
	}
	l.log.Warn("refused a connection to the page server: heidi-tray serves only its own OS user",
		"from", from.String(), "err", err, "refused_since_last_log", l.suppressed)
	l.lastLog, l.suppressed = now, 0
}
