package heidiapi

import (
	"net"
	"sync/atomic"
	"testing"
	"time"
)

// The back-off doubles per failure from MinBackoff, stays within ±20%, and
// stops growing at MaxBackoff.
func TestBackoffDoublesAndIsCapped(t *testing.T) {
	c := &Conns{opt: ConnsOptions{MinBackoff: time.Second, MaxBackoff: time.Minute}}
	for failures, want := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 4: 8 * time.Second, 7: time.Minute, 50: time.Minute} {
		for i := 0; i < 20; i++ {
			got := c.backoff(failures)
			if got < want-want/5 || got > want+want/5 {
				t.Fatalf("backoff after %d failures: %v, want %v ±20%%", failures, got, want)
			}
		}
	}
}

// After a sleep (the wall clock ran ahead of the monotonic one) every host is
// dialled again and OnResume runs.
func TestSleepRedialsAndCallsOnResume(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var accepted atomic.Int64
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			c.Close()
		}
	}()
	defer func() { ln.Close(); <-done }()
	resumed := make(chan struct{}, 1)
	c := NewConns(NewTransport(nil, nil), ConnsOptions{MinBackoff: time.Hour, OnResume: func() { resumed <- struct{}{} }})
	defer c.Stop()
	c.Warm("https://" + ln.Addr().String())
	for accepted.Load() != 1 || c.Dials() != 1 {
		time.Sleep(5 * time.Millisecond)
	}
	c.checkSleep() // no sleep: nothing happens
	if c.Dials() != 1 {
		t.Fatalf("%d dials without a sleep", c.Dials())
	}
	c.mu.Lock()
	c.sleptFor = func(time.Time, time.Time) time.Duration { return time.Hour }
	c.mu.Unlock()
	c.checkSleep()
	<-resumed
	if c.Dials() != 2 {
		t.Fatalf("%d dials after a sleep, want 2 (the back-off is reset by a resume)", c.Dials())
	}
}
