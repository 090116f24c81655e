package launcher

import (
	"context"
	"testing"

	"github.com/heidi-tray/heidi-tray/launcher/wire"
)

// A subscriber that stops reading is cut off with "dropped" as its last
// event, never silently left with gaps; the others keep everything.
func TestSlowSubscriberIsToldItWasDropped(t *testing.T) {
	var h hub
	h.init()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	slow := h.subscribe(ctx)
	fast := h.subscribe(ctx)
	got := 0
	for i := 0; i < subBuffer*2; i++ {
		h.publish(wire.Event{Type: "state"})
		for len(fast) > 0 {
			<-fast
			got++
		}
	}
	var last wire.Event
	n := 0
	for ev := range slow { // closed after "dropped"
		last = ev
		n++
	}
	if last.Type != "dropped" || n != subBuffer {
		t.Fatalf("the slow subscriber got %d events ending with %q", n, last.Type)
	}
	if got != subBuffer*2 {
		t.Fatalf("the reading subscriber got %d of %d", got, subBuffer*2)
	}
}

// Waiters: every waiter of a launch gets its note; a later "left" does not
// undo a note; a waiter that comes after the fact is answered at once.
func TestWaitersOfALaunch(t *testing.T) {
	var h hub
	h.init()
	a, b := h.wait("L1"), h.wait("L1")
	other := h.wait("L2")
	n := &wire.Note{ID: "n1", LaunchID: "L1"}
	h.publish(wire.Event{Type: "note", Note: n})
	h.left("L1", "L2")
	if (<-a).note != n || (<-b).note != n {
		t.Fatal("a waiter of L1 did not get its note")
	}
	h.left("L2", "L3")
	if r := <-other; r.note != nil || r.by != "L3" {
		t.Fatalf("L2's waiter: %+v", r)
	}
	if r := <-h.wait("L1"); r.note != n {
		t.Fatalf("a late waiter of L1: %+v", r)
	}
	h.close()
	if r := <-h.wait("L9"); !r.shutdown {
		t.Fatalf("a waiter after close: %+v", r)
	}
}
