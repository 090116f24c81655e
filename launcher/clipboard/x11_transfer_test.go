//go:build !windows && !darwin

package clipboard

import (
	"strings"
	"testing"
	"time"

	"github.com/jezek/xgb"
	"github.com/jezek/xgb/xproto"

	"github.com/heidi-tray/heidi-tray/launcher/testrig"
)

// requestor is a raw X client reading the clipboard the way toolkits do,
// step by step, so a test can act between the steps.
type requestor struct {
	t                      *testing.T
	c                      *xgb.Conn
	win                    xproto.Window
	clip, utf8, incr, prop xproto.Atom
}

func newRequestor(t *testing.T) *requestor {
	t.Helper()
	c, err := xgb.NewConn()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	win, _ := xproto.NewWindowId(c)
	screen := xproto.Setup(c).DefaultScreen(c)
	if err := xproto.CreateWindowChecked(c, 0, win, screen.Root, 0, 0, 1, 1, 0, xproto.WindowClassInputOnly, 0,
		xproto.CwEventMask, []uint32{xproto.EventMaskPropertyChange}).Check(); err != nil {
		t.Fatal(err)
	}
	r := &requestor{t: t, c: c, win: win}
	for _, a := range []struct {
		p    *xproto.Atom
		name string
	}{{&r.clip, "CLIPBOARD"}, {&r.utf8, "UTF8_STRING"}, {&r.incr, "INCR"}, {&r.prop, "HEIDI_TEST_PROP"}} {
		reply, err := xproto.InternAtom(c, false, uint16(len(a.name)), a.name).Reply()
		if err != nil {
			t.Fatal(err)
		}
		*a.p = reply.Atom
	}
	return r
}

// ask converts the clipboard to UTF8_STRING into the test property and
// waits for the owner's answer; it returns the property's type.
func (r *requestor) ask() xproto.Atom {
	r.t.Helper()
	xproto.ConvertSelection(r.c, r.win, r.clip, r.utf8, r.prop, xproto.TimeCurrentTime)
	for {
		if _, ok := r.event().(xproto.SelectionNotifyEvent); ok {
			break
		}
	}
	return r.property(false).Type
}

func (r *requestor) property(del bool) *xproto.GetPropertyReply {
	r.t.Helper()
	reply, err := xproto.GetProperty(r.c, del, r.win, r.prop, xproto.GetPropertyTypeAny, 0, 1<<20).Reply()
	if err != nil {
		r.t.Fatal(err)
	}
	return reply
}

func (r *requestor) event() xgb.Event {
	r.t.Helper()
	ch := make(chan xgb.Event, 1)
	go func() { ev, _ := r.c.WaitForEvent(); ch <- ev }()
	select {
	case ev := <-ch:
		return ev
	case <-time.After(8 * time.Second):
		r.t.Fatal("no event from the X server")
		return nil
	}
}

// nextPiece deletes the property (asking for more) and returns the next
// piece the owner writes.
func (r *requestor) nextPiece() []byte {
	r.t.Helper()
	xproto.DeleteProperty(r.c, r.win, r.prop)
	for {
		if pn, ok := r.event().(xproto.PropertyNotifyEvent); ok && pn.State == xproto.PropertyNewValue && pn.Atom == r.prop {
			return r.property(false).Value
		}
	}
}

// A newer note copied while a large one is being pasted in pieces: the
// paste still gets the whole of the note it asked for (ICCCM: the old
// owner finishes), and the old owner then ends.
func TestPiecedPasteSurvivesANewerNote(t *testing.T) {
	t.Setenv("DISPLAY", testrig.Xvfb(t))
	t.Setenv("WAYLAND_DISPLAY", "")
	defer Release()
	big := strings.Repeat("Plan: review in two weeks. ", 12000)
	if err := Copy(big); err != nil {
		t.Fatal(err)
	}
	owned.Lock()
	old := owned.cur
	owned.Unlock()
	r := newRequestor(t)
	if typ := r.ask(); typ != r.incr {
		t.Fatalf("a %d-byte note was not sent in pieces", len(big))
	}
	var got []byte
	for piece := r.nextPiece(); len(piece) > 0; piece = r.nextPiece() {
		if len(got) == 0 {
			if err := Copy("a newer note"); err != nil {
				t.Fatal(err)
			}
		}
		got = append(got, piece...)
	}
	if string(got) != big {
		t.Fatalf("the paste got %d bytes, want %d", len(got), len(big))
	}
	select {
	case <-old.done:
	case <-time.After(2 * time.Second):
		t.Fatal("the old owner did not end after its transfer")
	}
}

// A requestor abandons a pieced paste and reads the newer note into the
// same property: the old owner must never write a piece of the old note
// (perhaps another patient's) into it.
func TestAbandonedPasteGetsNoPieceOfTheOldNote(t *testing.T) {
	t.Setenv("DISPLAY", testrig.Xvfb(t))
	t.Setenv("WAYLAND_DISPLAY", "")
	defer Release()
	if err := Copy(strings.Repeat("OLD NOTE ", 20000)); err != nil {
		t.Fatal(err)
	}
	r := newRequestor(t)
	if typ := r.ask(); typ != r.incr {
		t.Fatal("the old note was not sent in pieces")
	}
	// Abandoned. The newer note is small: one answer.
	if err := Copy("new note"); err != nil {
		t.Fatal(err)
	}
	r.ask()
	if got := string(r.property(true).Value); got != "new note" {
		t.Fatalf("read %q", got)
	}
	time.Sleep(300 * time.Millisecond) // the old owner would answer the delete by now
	if p := r.property(false); p.ValueLen > 0 {
		t.Fatalf("after the read the property holds %d bytes: %.20q…", p.ValueLen, p.Value)
	}
}
