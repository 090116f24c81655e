package main

import (
	"net"
	"sync"
	"time"
)

// link is a TCP forwarder that behaves like a network path with a given round
// trip: every chunk is delivered half a round trip after it was sent, in each
// direction, and a new connection carries nothing until a full round trip
// after it was opened (the TCP handshake, which on loopback is free). TLS and
// HTTP/2 over it pay what they pay over a real path: nothing is special-cased.
type link struct {
	ln     net.Listener
	target string
	rtt    time.Duration

	mu    sync.Mutex
	conns map[net.Conn]bool
	wg    sync.WaitGroup
}

func startLink(target string, rtt time.Duration) (*link, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	l := &link{ln: ln, target: target, rtt: rtt, conns: map[net.Conn]bool{}}
	l.wg.Add(1)
	go l.accept()
	return l, nil
}

func (l *link) Addr() string { return l.ln.Addr().String() }

func (l *link) accept() {
	defer l.wg.Done()
	for {
		c, err := l.ln.Accept()
		if err != nil {
			return
		}
		opened := time.Now()
		up, err := net.Dial("tcp", l.target)
		if err != nil {
			c.Close()
			continue
		}
		l.mu.Lock()
		l.conns[c], l.conns[up] = true, true
		l.mu.Unlock()
		l.wg.Add(2)
		// Client to server: nothing before the handshake's round trip.
		go l.pipe(up, c, opened.Add(l.rtt))
		go l.pipe(c, up, time.Time{})
	}
}

type chunk struct {
	data []byte
	due  time.Time
}

// pipe copies src to dst, each chunk delayed by half the round trip (and
// none before notBefore); reading goes on while earlier chunks wait.
func (l *link) pipe(dst, src net.Conn, notBefore time.Time) {
	defer l.wg.Done()
	q := make(chan chunk, 1024)
	go func() {
		defer close(q)
		for {
			buf := make([]byte, 32<<10)
			n, err := src.Read(buf)
			if n > 0 {
				due := time.Now().Add(l.rtt / 2)
				if !notBefore.IsZero() && due.Before(notBefore.Add(l.rtt/2)) {
					due = notBefore.Add(l.rtt / 2)
				}
				q <- chunk{buf[:n], due}
			}
			if err != nil {
				return
			}
		}
	}()
	for c := range q {
		time.Sleep(time.Until(c.due))
		if _, err := dst.Write(c.data); err != nil {
			break
		}
	}
	for range q { // drain: the reader exits once src is closed
	}
	// A half-close would be truer, but HTTP/TLS peers here close both ways.
	dst.Close()
	src.Close()
	l.forget(dst, src)
}

func (l *link) forget(cs ...net.Conn) {
	l.mu.Lock()
	for _, c := range cs {
		delete(l.conns, c)
	}
	l.mu.Unlock()
}

// Close stops accepting and drops every connection.
func (l *link) Close() {
	l.ln.Close()
	l.mu.Lock()
	for c := range l.conns {
		c.Close()
	}
	l.mu.Unlock()
	l.wg.Wait()
}
