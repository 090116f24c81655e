package tray

import (
	"sync"
	"time"
)

// macOS delivers heidi-tray:// URLs to the running app as an Apple Event,
// not in argv. The event handler (urlevent_darwin.go) calls DeliverURL,
// possibly before heidi-tray is ready to act on it (a cold start by URL), so
// URLs wait here until a consumer is attached: none is lost.

var urls = struct {
	sync.Mutex
	pending []string
	handle  func(string)
}{}

// maxPendingURLs bounds what a flood of events can queue before start-up.
const maxPendingURLs = 32

// DeliverURL hands a URL from the OS to heidi-tray.
func DeliverURL(raw string) {
	urls.Lock()
	h := urls.handle
	if h == nil {
		if len(urls.pending) < maxPendingURLs {
			urls.pending = append(urls.pending, raw)
		}
		urls.Unlock()
		return
	}
	urls.Unlock()
	go h(raw)
}

// OnURL attaches the consumer and hands it every URL that arrived before.
func OnURL(h func(string)) {
	urls.Lock()
	pending := urls.pending
	urls.pending, urls.handle = nil, h
	urls.Unlock()
	for _, u := range pending {
		go h(u)
	}
}

// pump runs the OS event loop for up to d, so Apple Events sent at launch
// are handled (urlevent_darwin.go); canPump says whether this build has one.
var (
	pump    = pumpEvents
	canPump = osPumps
)

// QueuedURLs is for a process that found the tray already running: macOS
// started it for a heidi-tray:// URL, which arrives as an Apple Event once
// its event loop runs. It runs that loop for up to wait, stopping early once
// a URL has arrived, and takes the queued URLs for the caller to forward
// over IPC. Where the OS has no such events it returns at once.
func QueuedURLs(wait time.Duration) []string {
	deadline := time.Now().Add(wait)
	for canPump && time.Now().Before(deadline) {
		urls.Lock()
		n := len(urls.pending)
		urls.Unlock()
		if n > 0 {
			pump(50 * time.Millisecond) // the rest of a burst (one event per URL)
			break
		}
		pump(min(100*time.Millisecond, time.Until(deadline)))
	}
	urls.Lock()
	defer urls.Unlock()
	p := urls.pending
	urls.pending = nil
	return p
}

// The Quit Apple Event (logout, restart, Activity Monitor's Quit) is
// handled by heidi-tray's own shutdown, not AppKit's, which would exit the
// process without it (windows not signed out, outbox not flushed).
var quit = struct {
	sync.Mutex
	requested bool
	handle    func()
}{}

// RequestQuit asks heidi-tray to shut down (the Quit event handler).
func RequestQuit() {
	quit.Lock()
	quit.requested = true
	h := quit.handle
	quit.Unlock()
	if h != nil {
		go h()
	}
}

// OnQuit attaches the shutdown; a quit requested before runs it at once.
func OnQuit(h func()) {
	quit.Lock()
	quit.handle = h
	requested := quit.requested
	quit.Unlock()
	if requested && h != nil {
		go h()
	}
}
