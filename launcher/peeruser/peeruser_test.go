package peeruser

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/heidi-tray/heidi-tray/launcher/testrig"
	"go.uber.org/goleak"
)

// The test binary doubles as the other user's client: with PEERUSER_DIAL set
// it connects there, says hello and prints what came back.
func TestMain(m *testing.M) {
	if addr := os.Getenv("PEERUSER_DIAL"); addr != "" {
		fmt.Print(dialAndRead(addr))
		os.Exit(0)
	}
	testrig.Main(m)
}

func dialAndRead(addr string) string {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return "dial error: " + err.Error()
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprintln(c, "hello")
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return "closed: " + err.Error()
	}
	return "served: " + strings.TrimSpace(line)
}

// echoServer serves l through Listener: it answers "hi" to each connection.
func echoServer(t *testing.T) (addr string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := Listener(ln, nil)
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				bufio.NewReader(c).ReadString('\n')
				io.WriteString(c, "hi\n")
			}()
		}
	}()
	return ln.Addr().String()
}

func TestSameUserIsServed(t *testing.T) {
	if got := dialAndRead(echoServer(t)); got != "served: hi" {
		t.Fatalf("a connection from this user: %q", got)
	}
}

func TestCheckOwnConnection(t *testing.T) {
	client, server := loopbackPair(t)
	if err := Check(server); err != nil {
		t.Fatalf("this process's own connection: %v", err)
	}
	// The client end's peer is an accepted socket: also ours. (Wine reports
	// accepted sockets as owned by pid 0, so this half is not asked there.)
	if runtime.GOOS == "windows" {
		return
	}
	if err := Check(client); err != nil {
		t.Fatalf("the other end: %v", err)
	}
}

// A peer that has gone (or never was) in the kernel's table is refused,
// never waved through.
func TestUnattributedIsRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	err = Check(fakeConn{ln.Addr(), &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1}})
	if !errors.Is(err, ErrUnattributed) {
		t.Fatalf("a socket nobody owns: %v, want ErrUnattributed", err)
	}
	err = Check(fakeConn{ln.Addr(), &net.TCPAddr{IP: net.IPv4(10, 1, 2, 3), Port: 4000}})
	if !errors.Is(err, ErrOtherUser) {
		t.Fatalf("a remote peer: %v, want ErrOtherUser", err)
	}
	err = Check(fakeConn{&net.UnixAddr{Name: "x"}, &net.UnixAddr{Name: "y"}})
	if !errors.Is(err, ErrUnattributed) {
		t.Fatalf("not TCP: %v, want ErrUnattributed", err)
	}
}

type fakeConn struct{ local, remote net.Addr }

func (f fakeConn) LocalAddr() net.Addr            { return f.local }
func (f fakeConn) RemoteAddr() net.Addr           { return f.remote }
func (fakeConn) Read([]byte) (int, error)         { return 0, io.EOF }
func (fakeConn) Write(b []byte) (int, error)      { return len(b), nil }
func (fakeConn) Close() error                     { return nil }
func (fakeConn) SetDeadline(time.Time) error      { return nil }
func (fakeConn) SetReadDeadline(time.Time) error  { return nil }
func (fakeConn) SetWriteDeadline(time.Time) error { return nil }

// A real second OS user connecting to the server gets nothing: its
// connection is closed before a byte is read, and this user is still served.
func TestOtherUserIsRefused(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the second-user rig is Linux-only; Windows' refusal is unit-tested in peeruser_windows_test.go")
	}
	other := testrig.NewOtherUser(t)
	addr := echoServer(t)
	helper := other.ShareTestBinary()
	cmd := other.Command(helper)
	cmd.Env = append(cmd.Env, "PEERUSER_DIAL="+addr)
	got := testrig.Output(t, cmd)
	if !strings.HasPrefix(got, "closed:") {
		t.Fatalf("the other user (uid %d) got %q; want its connection closed unanswered", other.UID, got)
	}
	if got := dialAndRead(addr); got != "served: hi" {
		t.Fatalf("after the other user's attempt, this user got %q", got)
	}
}

func BenchmarkCheck(b *testing.B) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	defer client.Close()
	server, err := ln.Accept()
	if err != nil {
		b.Fatal(err)
	}
	defer server.Close()
	b.ResetTimer()
	for b.Loop() {
		if err := Check(server); err != nil {
			b.Fatal(err)
		}
	}
}

// A slow attribution (lsof on macOS takes tens of milliseconds, up to its
// timeout) holds up only its own connection: a second one is served
// meanwhile. Close waits for the checks still running and leaves no
// goroutine behind.
func TestSlowCheckDelaysOnlyItsConnection(t *testing.T) {
	defer goleak.VerifyNone(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	release := make(chan struct{})
	var slowPort atomic.Int32
	l := newListener(ln, func(_ context.Context, c net.Conn) error {
		if c.RemoteAddr().(*net.TCPAddr).Port == int(slowPort.Load()) {
			<-release
		}
		return nil
	}, slog.New(slog.DiscardHandler))
	var releaseOnce sync.Once
	defer func() { releaseOnce.Do(func() { close(release) }); l.Close() }()
	slow, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	slowPort.Store(int32(slow.LocalAddr().(*net.TCPAddr).Port)) // before the first Accept
	accepted := make(chan net.Conn, 2)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				close(accepted)
				return
			}
			accepted <- c
		}
	}()
	fast, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer fast.Close()
	select {
	case c := <-accepted:
		if c.RemoteAddr().String() != fast.LocalAddr().String() {
			t.Fatalf("accepted %s before the slow check ended; want the fast one %s", c.RemoteAddr(), fast.LocalAddr())
		}
		c.Close()
	case <-time.After(5 * time.Second):
		t.Fatal("a slow check held up another connection")
	}
	releaseOnce.Do(func() { close(release) })
	if c := <-accepted; c == nil || c.RemoteAddr().String() != slow.LocalAddr().String() {
		t.Fatalf("the slow connection: %v", c)
	} else {
		c.Close()
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if _, ok := <-accepted; ok {
		t.Fatal("Accept returned a connection after Close")
	}
}

// Close does not wait out a check that is still running (lsof's timeout
// on macOS): the check's context ends, and Close returns.
func TestCloseEndsRunningChecks(t *testing.T) {
	defer goleak.VerifyNone(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	checking := make(chan struct{})
	l := newListener(ln, func(ctx context.Context, c net.Conn) error {
		close(checking)
		<-ctx.Done() // a check that would otherwise never end
		return ctx.Err()
	}, slog.New(slog.DiscardHandler))
	go l.Accept()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	<-checking
	closed := make(chan struct{})
	go func() { l.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("Close waited for a check that waits for its context")
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Read(make([]byte, 1)); err == nil {
		t.Fatal("the connection whose check was cut short was served")
	}
}

// scriptedListener's Accept returns what the test feeds it, and records
// when it was called.
type scriptedListener struct {
	net.Listener
	results chan error
	calls   chan time.Time
	closed  chan struct{}
}

func (s *scriptedListener) Accept() (net.Conn, error) {
	s.calls <- time.Now()
	select {
	case err := <-s.results:
		return nil, err
	case <-s.closed:
		return nil, net.ErrClosed
	}
}

func (s *scriptedListener) Close() error { close(s.closed); return nil }

type temporary struct{}

func (temporary) Error() string   { return "too many open files" }
func (temporary) Timeout() bool   { return false }
func (temporary) Temporary() bool { return true }

// After an error (EMFILE, which http.Server waits out and retries), the
// wrapped listener is asked again only when a caller asks: the retry sees
// a fresh result, not one taken while the caller was backing off.
func TestAcceptErrorsAreFresh(t *testing.T) {
	defer goleak.VerifyNone(t)
	s := &scriptedListener{results: make(chan error, 2), calls: make(chan time.Time, 4), closed: make(chan struct{})}
	l := newListener(s, func(context.Context, net.Conn) error { return nil }, slog.New(slog.DiscardHandler))
	defer l.Close()
	s.results <- temporary{}
	if _, err := l.Accept(); !errors.As(err, new(temporary)) {
		t.Fatalf("Accept: %v, want the temporary error", err)
	}
	<-s.calls
	time.Sleep(100 * time.Millisecond) // the caller backs off
	asked := time.Now()
	s.results <- temporary{}
	if _, err := l.Accept(); !errors.As(err, new(temporary)) {
		t.Fatalf("the second Accept: %v", err)
	}
	if second := <-s.calls; second.Before(asked) {
		t.Fatalf("the wrapped Accept ran %v before the caller asked again", asked.Sub(second))
	}
}

// loopbackPair is a TCP connection of this process's own on 127.0.0.1:
// both ends; closed at Cleanup.
func loopbackPair(t *testing.T) (client, server net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	server, err = ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { server.Close() })
	return client, server
}
