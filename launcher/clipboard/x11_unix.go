//go:build !windows && !darwin

package clipboard

import (
	"errors"
	"fmt"
	"io"
	"log"
	"slices"
	"sync"

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

var owned struct {
	sync.Mutex
	cur *selectionOwner
}

func init() { xgb.Logger = log.New(io.Discard, "", 0) } // xgb logs to stderr by default

type selectionOwner struct {
	conn      *xgb.Conn
	win       xproto.Window
	text      []byte
	atoms     map[string]xproto.Atom
	transfers map[transferKey]*transfer
	order     []transferKey
	done      chan struct{}
	closeOnce sync.Once // xgb's Close panics when called twice
}

type transferKey struct {
	win  xproto.Window
	prop xproto.Atom
}

type transfer struct {
	typ    xproto.Atom
	offset int
}

var atomNames = []string{"CLIPBOARD", "TARGETS", "INCR", "UTF8_STRING", "TEXT", "text/plain;charset=utf-8", "text/plain", "x-kde-passwordManagerHint"}

// textTargets are the targets answered with the note's UTF-8 text (STRING,
// the X11 Latin-1 type, too: xclip and most toolkits do the same).
var textTargets = []string{"UTF8_STRING", "TEXT", "text/plain;charset=utf-8", "text/plain"}

// copyX11 makes the tray the clipboard's owner for text. A previous note is
// replaced.
func copyX11(text string) error {
	o, err := ownSelection([]byte(text))
	if err != nil {
		return err
	}
	replaceOwner(o)
	return nil
}

// Release gives up the clipboard and stops serving it: the tray is stopping.
func Release() { replaceOwner(nil) }

func replaceOwner(o *selectionOwner) {
	owned.Lock()
	old := owned.cur
	owned.cur = o
	owned.Unlock()
	if old != nil {
		old.stop()
	}
}

func ownSelection(text []byte) (*selectionOwner, error) {
	conn, err := xgb.NewConn()
	if err != nil {
		return nil, fmt.Errorf("connecting to the X display: %w", err)
	}
	o := &selectionOwner{conn: conn, text: text, atoms: map[string]xproto.Atom{}, transfers: map[transferKey]*transfer{}, done: make(chan struct{})}
	if err := o.setUp(); err != nil {
		o.closeConn()
		return nil, err
	}
	go o.serve() // owned by stop; ends at SelectionClear too
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
		xproto.WindowClassInputOnly, 0, 0, nil).Check(); err != nil {
		return fmt.Errorf("X window: %w", err)
	}
	o.win = win
	clip := o.atoms["CLIPBOARD"]
	if err := xproto.SetSelectionOwnerChecked(o.conn, win, clip, xproto.TimeCurrentTime).Check(); err != nil {
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
	defer o.closeConn()
	for {
		ev, err := o.conn.WaitForEvent()
		if ev == nil && err == nil {
			return // the connection closed: stop, or the X server went away
		}
		switch e := ev.(type) {
		case xproto.SelectionRequestEvent:
			o.answer(e)
		case xproto.PropertyNotifyEvent:
			if e.State == xproto.PropertyDelete {
				o.nextPiece(transferKey{e.Window, e.Atom})
			}
		case xproto.SelectionClearEvent:
			return // another program owns the clipboard now
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
	notify := xproto.SelectionNotifyEvent{Time: e.Time, Requestor: e.Requestor, Selection: e.Selection, Target: e.Target, Property: prop}
	xproto.SendEvent(o.conn, false, e.Requestor, xproto.EventMaskNoEvent, string(notify.Bytes()))
}

func (o *selectionOwner) write(win xproto.Window, prop, target xproto.Atom) bool {
	switch {
	case target == o.atoms["TARGETS"]:
		offered := []xproto.Atom{o.atoms["TARGETS"], xproto.AtomString, o.atoms["x-kde-passwordManagerHint"]}
		for _, t := range textTargets {
			offered = append(offered, o.atoms[t])
		}
		data := make([]byte, 4*len(offered))
		for i, a := range offered {
			xgb.Put32(data[4*i:], uint32(a)) // in the connection's byte order
		}
		xproto.ChangeProperty(o.conn, xproto.PropModeReplace, win, prop, xproto.AtomAtom, 32, uint32(len(offered)), data)
	case target == o.atoms["x-kde-passwordManagerHint"]:
		xproto.ChangeProperty(o.conn, xproto.PropModeReplace, win, prop, target, 8, 6, []byte("secret"))
	case target == xproto.AtomString || o.isText(target):
		typ := target
		if target == o.atoms["TEXT"] {
			typ = o.atoms["UTF8_STRING"]
		}
		if len(o.text) <= chunk {
			xproto.ChangeProperty(o.conn, xproto.PropModeReplace, win, prop, typ, 8, uint32(len(o.text)), o.text)
			return true
		}
		o.startPieces(win, prop, typ)
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
func (o *selectionOwner) startPieces(win xproto.Window, prop, typ xproto.Atom) {
	key := transferKey{win, prop}
	if _, ok := o.transfers[key]; !ok {
		o.order = append(o.order, key)
	}
	o.transfers[key] = &transfer{typ: typ}
	if len(o.order) > maxTransfers {
		delete(o.transfers, o.order[0])
		o.order = o.order[1:]
	}
	xproto.ChangeWindowAttributes(o.conn, win, xproto.CwEventMask, []uint32{xproto.EventMaskPropertyChange})
	size := make([]byte, 4)
	xgb.Put32(size, uint32(len(o.text)))
	xproto.ChangeProperty(o.conn, xproto.PropModeReplace, win, prop, o.atoms["INCR"], 32, 1, size)
}

func (o *selectionOwner) nextPiece(key transferKey) {
	t, ok := o.transfers[key]
	if !ok {
		return
	}
	end := min(t.offset+chunk, len(o.text))
	piece := o.text[t.offset:end]
	xproto.ChangeProperty(o.conn, xproto.PropModeReplace, key.win, key.prop, t.typ, 8, uint32(len(piece)), piece)
	if len(piece) == 0 {
		delete(o.transfers, key)
		o.order = slices.DeleteFunc(o.order, func(k transferKey) bool { return k == key })
		if !slices.ContainsFunc(o.order, func(k transferKey) bool { return k.win == key.win }) {
			xproto.ChangeWindowAttributes(o.conn, key.win, xproto.CwEventMask, []uint32{xproto.EventMaskNoEvent})
		}
		return
	}
	t.offset = end
}
