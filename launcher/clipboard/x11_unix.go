//go:build !windows && !darwin

package clipboard

import (
	"errors"
	"fmt"
	"io"
	"log"
	"slices"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/jezek/xgb"
	"github.com/jezek/xgb/xproto"
)

// On X11 the tray owns the CLIPBOARD selection itself rather than running
// xclip, because only an owner can offer several targets: the text, and
// x-kde-passwordManagerHint = "secret", which KDE's Klipper, CopyQ and
// other clipboard managers honour by keeping the note out of their history
// (as KeePassXC marks passwords). The note stays on the clipboard until
// another program takes it or the tray stops (Release).

// chunk is the largest property written at once; larger notes go in
// pieces (ICCCM's INCR), as X bounds a request's size.
const chunk = 64 << 10

// maxTransfers bounds the pieced transfers in flight: a requestor that
// dies mid-transfer leaves one behind.
const maxTransfers = 16

// retireWithin bounds how long an owner that lost the clipboard keeps
// serving the transfers it had begun (ICCCM asks it to finish them).
const retireWithin = 5 * time.Second

// errNoDisplay: no X server to talk to (xclip would have none either).
var errNoDisplay = errors.New("no X display")

// owned is the clipboard's state in this process. Its lock is held for a
// whole copy or release, so two notes pushed at once take turns.
var owned struct {
	sync.Mutex
	cur *selectionOwner              // the owner now, if it still is
	all map[*selectionOwner]struct{} // the current one and those finishing transfers
}

func init() { xgb.Logger = log.New(io.Discard, "", 0) } // xgb logs to stderr by default

type selectionOwner struct {
	conn      *xgb.Conn
	win       xproto.Window
	text      []byte
	latin1    []byte           // the text as STRING, or nil when it is not Latin-1
	since     xproto.Timestamp // when it took the clipboard (the server's clock)
	atoms     map[string]xproto.Atom
	transfers map[transferKey]*transfer
	order     []transferKey
	done      chan struct{}
	closeOnce sync.Once
}

type transferKey struct {
	win  xproto.Window
	prop xproto.Atom
}

type transfer struct {
	typ    xproto.Atom
	data   []byte
	offset int
	// ours counts our writes to the property whose PropertyNotify has not
	// come back yet. A new value we did not write means someone else (the
	// next owner) answers into that property now: the transfer is over.
	ours int
}

var atomNames = []string{"CLIPBOARD", "TARGETS", "TIMESTAMP", "INTEGER", "INCR", "_HEIDI_TRAY_TIME", "UTF8_STRING", "TEXT", "text/plain;charset=utf-8", "text/plain", "x-kde-passwordManagerHint"}

// textTargets are the targets answered with the note's UTF-8 text. STRING
// (Latin-1) is offered only when the note is Latin-1, converted: a note
// with other characters is never handed out altered.
var textTargets = []string{"UTF8_STRING", "TEXT", "text/plain;charset=utf-8", "text/plain"}

// copyX11 makes the tray the clipboard's owner for text. A previous note is
// replaced.
func copyX11(text string) error {
	owned.Lock()
	defer owned.Unlock()
	o, err := ownSelection([]byte(text))
	if err != nil {
		return err
	}
	// The previous owner was told (SelectionClear) and ends by itself once
	// its transfers are done.
	owned.cur = o
	if owned.all == nil {
		owned.all = map[*selectionOwner]struct{}{}
	}
	owned.all[o] = struct{}{}
	return nil
}

// Release gives up the clipboard and stops serving it at once, transfers
// or not: the tray is stopping.
func Release() {
	owned.Lock()
	all := owned.all
	owned.cur, owned.all = nil, nil
	owned.Unlock()
	for o := range all { // unlocked: each owner's goroutine takes the lock as it ends
		o.stop()
	}
}

// ended forgets an owner whose goroutine has ended.
func (o *selectionOwner) ended() {
	owned.Lock()
	defer owned.Unlock()
	delete(owned.all, o)
	if owned.cur == o {
		owned.cur = nil
	}
}

func ownSelection(text []byte) (*selectionOwner, error) {
	conn, err := xgb.NewConn()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errNoDisplay, err)
	}
	o := &selectionOwner{conn: conn, text: text, latin1: toLatin1(text), atoms: map[string]xproto.Atom{}, transfers: map[transferKey]*transfer{}, done: make(chan struct{})}
	if err := o.setUp(); err != nil {
		o.closeConn()
		return nil, err
	}
	go o.serve() // owned by Release; ends by itself after losing the clipboard
	return o, nil
}

func (o *selectionOwner) setUp() error {
	for _, name := range atomNames {
		r, err := xproto.InternAtom(o.conn, false, uint16(len(name)), name).Reply()
		if err != nil {
			return fmt.Errorf("X atom %s: %w", name, err)
		}
		o.atoms[name] = r.Atom
	}
	win, err := xproto.NewWindowId(o.conn)
	if err != nil {
		return fmt.Errorf("X window id: %w", err)
	}
	screen := xproto.Setup(o.conn).DefaultScreen(o.conn)
	if err := xproto.CreateWindowChecked(o.conn, 0, win, screen.Root, 0, 0, 1, 1, 0,
		xproto.WindowClassInputOnly, 0, xproto.CwEventMask, []uint32{xproto.EventMaskPropertyChange}).Check(); err != nil {
		return fmt.Errorf("X window: %w", err)
	}
	o.win = win
	// ICCCM: take the selection at a real server time, not CurrentTime; an
	// empty append to a property of our own makes the server tell us one.
	xproto.ChangeProperty(o.conn, xproto.PropModeAppend, win, o.atoms["_HEIDI_TRAY_TIME"], xproto.AtomString, 8, 0, nil)
	for o.since == 0 {
		ev, err := o.conn.WaitForEvent()
		if ev == nil && err == nil {
			return errors.New("the X server closed the connection")
		}
		if pn, ok := ev.(xproto.PropertyNotifyEvent); ok && pn.Window == win {
			o.since = pn.Time
		}
	}
	clip := o.atoms["CLIPBOARD"]
	if err := xproto.SetSelectionOwnerChecked(o.conn, win, clip, o.since).Check(); err != nil {
		return fmt.Errorf("taking the clipboard: %w", err)
	}
	r, err := xproto.GetSelectionOwner(o.conn, clip).Reply()
	if err != nil {
		return fmt.Errorf("taking the clipboard: %w", err)
	}
	if r.Owner != win {
		return errors.New("another program kept the clipboard")
	}
	return nil
}

func (o *selectionOwner) serve() {
	defer close(o.done)
	defer o.ended()
	defer o.closeConn()
	lost := false
	for !lost || len(o.transfers) > 0 {
		ev, err := o.conn.WaitForEvent()
		if ev == nil && err == nil {
			return // the connection closed: Release, the deadline, or the X server went away
		}
		switch e := ev.(type) {
		case xproto.SelectionRequestEvent:
			if lost {
				o.refuse(e) // a request sent before the clear arrived
			} else {
				o.answer(e)
			}
		case xproto.PropertyNotifyEvent:
			key := transferKey{e.Window, e.Atom}
			if e.State == xproto.PropertyDelete {
				o.nextPiece(key)
			} else {
				o.written(key)
			}
		case xproto.SelectionClearEvent:
			// Another owner (a newer note, or another program) has the
			// clipboard; finish what was begun, within a bound.
			lost = true
			time.AfterFunc(retireWithin, o.closeConn)
		}
	}
}

func (o *selectionOwner) closeConn() { o.closeOnce.Do(o.conn.Close) }

func (o *selectionOwner) stop() {
	o.closeConn()
	<-o.done
}

// answer writes the requested target to the requestor's property and tells
// it so; a target not offered is refused (property None).
func (o *selectionOwner) answer(e xproto.SelectionRequestEvent) {
	prop := e.Property
	if prop == xproto.AtomNone {
		prop = e.Target // an obsolete requestor
	}
	if !o.write(e.Requestor, prop, e.Target) {
		prop = xproto.AtomNone
	}
	o.notify(e, prop)
}

func (o *selectionOwner) refuse(e xproto.SelectionRequestEvent) { o.notify(e, xproto.AtomNone) }

func (o *selectionOwner) notify(e xproto.SelectionRequestEvent, prop xproto.Atom) {
	notify := xproto.SelectionNotifyEvent{Time: e.Time, Requestor: e.Requestor, Selection: e.Selection, Target: e.Target, Property: prop}
	xproto.SendEvent(o.conn, false, e.Requestor, xproto.EventMaskNoEvent, string(notify.Bytes()))
}

func (o *selectionOwner) write(win xproto.Window, prop, target xproto.Atom) bool {
	o.endTransfer(transferKey{win, prop}) // a requestor that asks again has given up the last one
	switch {
	case target == o.atoms["TARGETS"]:
		offered := []xproto.Atom{o.atoms["TARGETS"], o.atoms["TIMESTAMP"], o.atoms["x-kde-passwordManagerHint"]}
		for _, t := range textTargets {
			offered = append(offered, o.atoms[t])
		}
		if o.latin1 != nil {
			offered = append(offered, xproto.AtomString)
		}
		data := make([]byte, 4*len(offered))
		for i, a := range offered {
			xgb.Put32(data[4*i:], uint32(a)) // in the connection's byte order
		}
		xproto.ChangeProperty(o.conn, xproto.PropModeReplace, win, prop, xproto.AtomAtom, 32, uint32(len(offered)), data)
	case target == o.atoms["TIMESTAMP"]:
		data := make([]byte, 4)
		xgb.Put32(data, uint32(o.since))
		xproto.ChangeProperty(o.conn, xproto.PropModeReplace, win, prop, o.atoms["INTEGER"], 32, 1, data)
	case target == o.atoms["x-kde-passwordManagerHint"]:
		xproto.ChangeProperty(o.conn, xproto.PropModeReplace, win, prop, target, 8, 6, []byte("secret"))
	case target == xproto.AtomString && o.latin1 != nil || o.isText(target):
		typ, data := target, o.text
		switch target {
		case o.atoms["TEXT"]:
			typ = o.atoms["UTF8_STRING"]
		case xproto.AtomString:
			data = o.latin1
		}
		if len(data) <= chunk {
			xproto.ChangeProperty(o.conn, xproto.PropModeReplace, win, prop, typ, 8, uint32(len(data)), data)
			return true
		}
		o.startPieces(win, prop, typ, data)
	default:
		return false
	}
	return true
}

func (o *selectionOwner) isText(target xproto.Atom) bool {
	for _, t := range textTargets {
		if o.atoms[t] == target {
			return true
		}
	}
	return false
}

// startPieces begins an INCR transfer: the requestor deletes the property
// after reading each piece, and the PropertyNotify that causes asks for the
// next; an empty piece ends it.
func (o *selectionOwner) startPieces(win xproto.Window, prop, typ xproto.Atom, data []byte) {
	key := transferKey{win, prop}
	o.order = append(o.order, key)
	o.transfers[key] = &transfer{typ: typ, data: data, ours: 1}
	if len(o.order) > maxTransfers {
		o.endTransfer(o.order[0])
	}
	xproto.ChangeWindowAttributes(o.conn, win, xproto.CwEventMask, []uint32{xproto.EventMaskPropertyChange})
	size := make([]byte, 4)
	xgb.Put32(size, uint32(len(data)))
	xproto.ChangeProperty(o.conn, xproto.PropModeReplace, win, prop, o.atoms["INCR"], 32, 1, size)
}

// nextPiece answers the requestor's delete of the last piece (or of the
// INCR header) with the next.
func (o *selectionOwner) nextPiece(key transferKey) {
	t, ok := o.transfers[key]
	if !ok || t.ours > 0 {
		return // not ours, or a delete of something written before our last piece
	}
	end := min(t.offset+chunk, len(t.data))
	piece := t.data[t.offset:end]
	xproto.ChangeProperty(o.conn, xproto.PropModeReplace, key.win, key.prop, t.typ, 8, uint32(len(piece)), piece)
	if len(piece) == 0 {
		o.endTransfer(key)
		return
	}
	t.offset = end
	t.ours++
}

// written: the property got a new value, ours or another owner's.
func (o *selectionOwner) written(key transferKey) {
	t, ok := o.transfers[key]
	if !ok {
		return
	}
	if t.ours > 0 {
		t.ours--
		return
	}
	o.endTransfer(key) // another owner writes there now: never mix our note into it
}

func (o *selectionOwner) endTransfer(key transferKey) {
	if _, ok := o.transfers[key]; !ok {
		return
	}
	delete(o.transfers, key)
	o.order = slices.DeleteFunc(o.order, func(k transferKey) bool { return k == key })
	if !slices.ContainsFunc(o.order, func(k transferKey) bool { return k.win == key.win }) {
		xproto.ChangeWindowAttributes(o.conn, key.win, xproto.CwEventMask, []uint32{xproto.EventMaskNoEvent})
	}
}

// toLatin1 converts UTF-8 text to ISO 8859-1, or returns nil when a
// character has no Latin-1 form.
func toLatin1(text []byte) []byte {
	out := make([]byte, 0, len(text))
	for _, r := range string(text) {
		if r > 0xff || r == utf8.RuneError {
			return nil
		}
		out = append(out, byte(r))
	}
	return out
}
