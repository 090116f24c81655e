package tray

import (
	"bytes"
	"encoding/binary"
	"image/png"
	"testing"

	"github.com/heidi-tray/heidi-tray/launcher/wire"
)

func TestEveryStateHasItsOwnIcons(t *testing.T) {
	seen := map[string]string{}
	for _, kind := range wire.StateKinds {
		k := string(kind)
		p := iconFile(k, ".png")
		img, err := png.Decode(bytes.NewReader(p))
		if err != nil || img.Bounds().Dx() != 64 {
			t.Fatalf("%s.png: %v", k, err)
		}
		if other, dup := seen[string(p)]; dup {
			t.Fatalf("%s and %s share an icon", k, other)
		}
		seen[string(p)] = k
		ico := iconFile(k, ".ico")
		if len(ico) < 6 || binary.LittleEndian.Uint16(ico[2:]) != 1 || binary.LittleEndian.Uint16(ico[4:]) != 7 {
			t.Fatalf("%s.ico is not a 7-image icon", k)
		}
		for i := 0; i < 7; i++ {
			e := ico[6+16*i:]
			size, off, n := int(e[0]), binary.LittleEndian.Uint32(e[12:]), binary.LittleEndian.Uint32(e[8:])
			img, err := png.Decode(bytes.NewReader(ico[off : off+n]))
			if err != nil || img.Bounds().Dx() != size {
				t.Fatalf("%s.ico entry %d: %v", k, i, err)
			}
		}
	}
	if !bytes.Equal(TemplateIcon("no-such-state"), TemplateIcon("error")) {
		t.Fatal("an unknown state should show the error template")
	}
	if !bytes.Equal(Icon("no-such-state"), Icon("error")) {
		t.Fatal("an unknown state should show the error icon")
	}
}

// macOS menu-bar icons are templates: black with alpha only (the menu bar
// tints them), one per state, told apart by shape.
func TestEveryStateHasItsOwnTemplateIcon(t *testing.T) {
	seen := map[string]string{}
	for _, kind := range wire.StateKinds {
		k := string(kind)
		p := TemplateIcon(k)
		img, err := png.Decode(bytes.NewReader(p))
		if err != nil || img.Bounds().Dx() != 64 {
			t.Fatalf("template-%s.png: %v", k, err)
		}
		opaque := 0
		for y := 0; y < 64; y++ {
			for x := 0; x < 64; x++ {
				r, g, b, a := img.At(x, y).RGBA()
				if r != 0 || g != 0 || b != 0 {
					t.Fatalf("template-%s.png has colour at %d,%d", k, x, y)
				}
				if a > 0 {
					opaque++
				}
			}
		}
		if opaque < 200 {
			t.Fatalf("template-%s.png is nearly empty", k)
		}
		if other, dup := seen[string(p)]; dup {
			t.Fatalf("%s and %s share a template icon", k, other)
		}
		seen[string(p)] = k
	}
	if MenuBarTitle(State{Message: "Ready for Dr A"}) != "" || MenuBarTitle(State{Sandbox: true, Message: "x"}) != "SANDBOX" {
		t.Fatal("the menu-bar title must stay short")
	}
}
