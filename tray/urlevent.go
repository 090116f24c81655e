package tray

import "sync"

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
