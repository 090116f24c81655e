package bounded

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestListenerCapsOpenConnections(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := Listener(ln, 2)
	accepted := make(chan net.Conn, 10)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			accepted <- c
		}
	}()
	dial := func() net.Conn {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	dial()
	dial()
	a1, a2 := <-accepted, <-accepted
	dial() // over the cap: waits
	select {
	case <-accepted:
		t.Fatal("a third connection was accepted over the cap of 2")
	case <-time.After(200 * time.Millisecond):
	}
	a1.Close()
	a1.Close() // releases once
	var a3 net.Conn
	select {
	case a3 = <-accepted:
	case <-time.After(5 * time.Second):
		t.Fatal("the waiting connection was not accepted after one closed")
	}
	a2.Close()
	a3.Close()
	time.Sleep(50 * time.Millisecond)
	if n := len(l.(*listener).slots); n != 1 { // the Accept that waits holds one
		t.Fatalf("%d slots held after all closed, want 1", n)
	}
	// Close ends an Accept that waits for a slot, too.
	for range 2 {
		dial()
		(<-accepted).Close()
	}
	l.Close()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Accept did not return after Close")
	}
}

// A client that stalls mid-body loses its connection after the deadline; a
// handler that waits long after reading its body is not cut off.
func TestBodyDeadline(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: BodyDeadline(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, "the body did not arrive in time", http.StatusRequestTimeout)
			return
		}
		select {
		case <-time.After(600 * time.Millisecond): // longer than the deadline
			fmt.Fprintf(w, "got %s", b)
		case <-r.Context().Done():
		}
	}), 200*time.Millisecond)}
	go srv.Serve(ln)
	defer srv.Close()

	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprint(c, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc")
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if line, err := bufio.NewReader(c).ReadString('\n'); !strings.Contains(line, "408") {
		t.Fatalf("a stalled body was not cut off: %q %v", line, err)
	}

	resp, err := http.Post("http://"+ln.Addr().String(), "text/plain", strings.NewReader("hello"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	got, _ := io.ReadAll(resp.Body)
	if string(got) != "got hello" {
		t.Fatalf("a slow handler after its body: %q", got)
	}
}
