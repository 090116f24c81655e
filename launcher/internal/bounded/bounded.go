// Package bounded keeps a local server within bounds when a client
// misbehaves: a cap on open connections, and a deadline on reading a
// request's body (http.Server's ReadHeaderTimeout covers the headers).
package bounded

import (
	"io"
	"net"
	"net/http"
	"sync"
	"time"
)

// Listener wraps l so that at most max connections are open at once: at
// the cap it stops accepting until one closes, so a burst waits in the
// kernel's backlog instead of failing (the local API's EMR bursts) and a
// flood holds at most max goroutines and buffers.
func Listener(l net.Listener, max int) net.Listener {
	return &listener{Listener: l, slots: make(chan struct{}, max), done: make(chan struct{})}
}

type listener struct {
	net.Listener
	slots     chan struct{}
	done      chan struct{}
	closeOnce sync.Once
}

func (l *listener) Accept() (net.Conn, error) {
	select {
	case l.slots <- struct{}{}:
	case <-l.done:
		return nil, net.ErrClosed
	}
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.slots
		return nil, err
	}
	return &conn{Conn: c, release: func() { <-l.slots }}, nil
}

func (l *listener) Close() error {
	l.closeOnce.Do(func() { close(l.done) })
	return l.Listener.Close()
}

type conn struct {
	net.Conn
	once    sync.Once
	release func()
}

// Unwrap is the accepted connection itself (for peer credentials).
func (c *conn) Unwrap() net.Conn { return c.Conn }

// Unwrap returns the connection a Listener accepted, or c.
func Unwrap(c net.Conn) net.Conn {
	if w, ok := c.(interface{ Unwrap() net.Conn }); ok {
		return w.Unwrap()
	}
	return c
}

func (c *conn) Close() error {
	c.once.Do(c.release)
	return c.Conn.Close()
}

// BodyDeadline gives every request body d to arrive, then lifts the deadline
// once the body is read, so a long-running handler (a stream, a wait for a
// note) is not cut off.
func BodyDeadline(next http.Handler, d time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body == nil || r.Body == http.NoBody {
			next.ServeHTTP(w, r)
			return
		}
		rc := http.NewResponseController(w)
		if rc.SetReadDeadline(time.Now().Add(d)) == nil {
			r.Body = &body{ReadCloser: r.Body, done: func() { rc.SetReadDeadline(time.Time{}) }}
		}
		next.ServeHTTP(w, r)
	})
}

type body struct {
	io.ReadCloser
	once sync.Once
	done func()
}

func (b *body) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err == io.EOF {
		b.once.Do(b.done)
	}
	return n, err
}
