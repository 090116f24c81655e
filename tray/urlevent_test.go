package tray

import (
	"sort"
	"sync"
	"testing"
	"time"
)

// The function the macOS Apple Event handler calls: a URL that arrives
// before heidi-tray is ready (a cold start by URL) is kept and delivered.
func TestURLsBeforeAndAfterStartUp(t *testing.T) {
	DeliverURL("heidi-tray://open?email=a%40b.example&user_id=1")
	DeliverURL("heidi-tray://logout")
	var mu sync.Mutex
	var got []string
	done := make(chan struct{}, 8)
	OnURL(func(u string) {
		mu.Lock()
		got = append(got, u)
		mu.Unlock()
		done <- struct{}{}
	})
	DeliverURL("heidi-tray://open?email=c%40d.example&user_id=2")
	for i := 0; i < 3; i++ {
		select {
		case <-done:
		case <-time.After(2 * time.Second):
			t.Fatalf("only %d of 3 URLs delivered: %v", i, got)
		}
	}
	sort.Strings(got)
	want := []string{"heidi-tray://logout", "heidi-tray://open?email=a%40b.example&user_id=1", "heidi-tray://open?email=c%40d.example&user_id=2"}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("got %v", got)
		}
	}
	OnURL(nil)
	urls.Lock()
	urls.handle = nil
	urls.Unlock()
	for i := 0; i < 100; i++ {
		DeliverURL("heidi-tray://logout")
	}
	if len(urls.pending) != maxPendingURLs {
		t.Fatalf("a flood queued %d URLs", len(urls.pending))
	}
	urls.pending = nil
}

// A process that found the tray running takes the URLs the OS sent it, to
// forward them; it stops pumping events as soon as one has arrived.
func TestQueuedURLsAreTakenForForwarding(t *testing.T) {
	defer func(p func(time.Duration), c bool) { pump, canPump = p, c }(pump, canPump)
	if !osPumps {
		if got := QueuedURLs(time.Hour); got != nil {
			t.Fatalf("nothing to pump, yet %q", got)
		}
	}
	canPump = true // the loop itself, with a stand-in for the OS event loop
	calls := 0
	pump = func(time.Duration) {
		calls++
		if calls == 3 {
			DeliverURL("heidi-tray://logout")
		}
	}
	got := QueuedURLs(10 * time.Second)
	if len(got) != 1 || got[0] != "heidi-tray://logout" || calls != 4 {
		t.Fatalf("got %q after %d pumps", got, calls)
	}
	if again := QueuedURLs(0); again != nil {
		t.Fatalf("taken twice: %q", again)
	}
}

func TestQuitBeforeAndAfterTheShutdownIsAttached(t *testing.T) {
	done := make(chan struct{}, 2)
	RequestQuit()
	OnQuit(func() { done <- struct{}{} })
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("a quit requested before start-up was lost")
	}
	RequestQuit()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("a quit request was lost")
	}
	OnQuit(nil)
	quit.Lock()
	quit.requested = false
	quit.Unlock()
}
