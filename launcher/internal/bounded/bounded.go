// Package bounded keeps a local server answering when a client misbehaves:
// a cap on open connections, and a deadline on reading a request's body
// (http.Server's ReadHeaderTimeout covers the headers).
package bounded

import (
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Listener wraps l so that at most max connections are open at once; one
// over the cap is closed at once rather than queued, so the listener never
// stops accepting.
func Listener(l net.Listener, max int) net.Listener {
	return &listener{Listener: l, max: int64(max)}
}

type listener struct {
	net.Listener
	max  int64
	open atomic.Int64
}

func (l *listener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if l.open.Add(1) > l.max {
			l.open.Add(-1)
			c.Close()
			continue
		}
		return &conn{Conn: c, release: func() { l.open.Add(-1) }}, nil
	}
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
