//go:build ignore

// gen draws the tray icons: go run ./assets/icons/gen.go (from the repo root).
// Per state: <state>.png (64 px, Linux), <state>.ico (16–64 px, Windows), and
// template-<state>.png (black and alpha, which the macOS menu bar tints; the
// state is told by shape, since a template has no colour), and
// heidi-tray.icns (the macOS app bundle's icon).
package main

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/color"
	"image/png"
	"os"
)

var states = map[string]color.RGBA{
	"ready":       {0x2e, 0x7d, 0x5b, 255},
	"needs_setup": {0xd9, 0x8e, 0x04, 255},
	"unreachable": {0x80, 0x80, 0x80, 255},
	"recording":   {0xd0, 0x30, 0x30, 255},
	"error":       {0x8b, 0x1a, 0x1a, 255},
}

func main() {
	for name, bg := range states {
		write("assets/icons/"+name+".png", encode(draw(64, bg, name == "recording")))
		var entries [][]byte
		sizes := []int{16, 20, 24, 32, 40, 48, 64}
		for _, n := range sizes {
			entries = append(entries, encode(draw(n, bg, name == "recording")))
		}
		write("assets/icons/"+name+".ico", ico(sizes, entries))
	}
	for name := range states {
		write("assets/icons/template-"+name+".png", encode(drawTemplate(64, name)))
	}
	write("assets/icons/heidi-tray.icns", icns(states["ready"]))
}

// icns is the app bundle's icon: PNG entries ic07 (128 px), ic08 (256), ic09 (512).
func icns(bg color.RGBA) []byte {
	var body bytes.Buffer
	for _, e := range []struct {
		typ string
		n   int
	}{{"ic07", 128}, {"ic08", 256}, {"ic09", 512}} {
		p := encode(draw(e.n, bg, false))
		body.WriteString(e.typ)
		binary.Write(&body, binary.BigEndian, uint32(8+len(p)))
		body.Write(p)
	}
	var out bytes.Buffer
	out.WriteString("icns")
	binary.Write(&out, binary.BigEndian, uint32(8+body.Len()))
	out.Write(body.Bytes())
	return out.Bytes()
}

// draw scales a 64-unit design (rounded square, white H) to n pixels.
func draw(n int, bg color.RGBA, dot bool) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, n, n))
	for py := 0; py < n; py++ {
		for px := 0; px < n; px++ {
			x, y := (px*64+32)/n, (py*64+32)/n
			dx, dy := max(0, max(10-x, x-53)), max(0, max(10-y, y-53))
			if dx*dx+dy*dy > 100 {
				continue
			}
			letter := (x >= 18 && x < 26 || x >= 38 && x < 46) && y >= 16 && y < 48 || x >= 18 && x < 46 && y >= 28 && y < 36
			if dot && (x-50)*(x-50)+(y-14)*(y-14) < 64 {
				letter = true
			}
			switch {
			case letter:
				img.Set(px, py, color.NRGBA{255, 255, 255, 255})
			default:
				img.Set(px, py, color.NRGBA{bg.R, bg.G, bg.B, 255})
			}
		}
	}
	return img
}

// drawTemplate is the H alone (ready), with a dot (recording), a ring
// (needs_setup) or an exclamation mark (error) at the top right, cut free of
// the H; unreachable is the H at 40 % opacity, which reads as "inactive".
func drawTemplate(n int, state string) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, n, n))
	badge := state == "recording" || state == "needs_setup" || state == "error"
	alpha := uint8(255)
	if state == "unreachable" {
		alpha = 102
	}
	for py := 0; py < n; py++ {
		for px := 0; px < n; px++ {
			x, y := (px*64+32)/n, (py*64+32)/n
			d2 := (x-52)*(x-52) + (y-12)*(y-12) // from the badge's centre
			on := (x >= 8 && x < 18 || x >= 34 && x < 44) && y >= 12 && y < 56 || x >= 8 && x < 44 && y >= 29 && y < 39
			if badge && d2 < 13*13 {
				on = false // a gap between the H and the badge
			}
			switch {
			case state == "recording" && d2 < 10*10:
				on = true
			case state == "needs_setup" && d2 < 10*10 && d2 >= 6*6:
				on = true
			case state == "error" && x >= 49 && x < 56 && (y >= 1 && y < 16 || y >= 19 && y < 24):
				on = true
			}
			if on {
				img.Set(px, py, color.NRGBA{0, 0, 0, alpha})
			}
		}
	}
	return img
}

func encode(img image.Image) []byte {
	var b bytes.Buffer
	png.Encode(&b, img)
	return b.Bytes()
}

// ico packs PNG-compressed entries into an ICO file (valid since Vista).
func ico(sizes []int, entries [][]byte) []byte {
	var b bytes.Buffer
	binary.Write(&b, binary.LittleEndian, []uint16{0, 1, uint16(len(entries))})
	offset := 6 + 16*len(entries)
	for i, e := range entries {
		s := byte(sizes[i])
		b.Write([]byte{s, s, 0, 0})
		binary.Write(&b, binary.LittleEndian, []uint16{1, 32})
		binary.Write(&b, binary.LittleEndian, []uint32{uint32(len(e)), uint32(offset)})
		offset += len(e)
	}
	for _, e := range entries {
		b.Write(e)
	}
	return b.Bytes()
}

func write(path string, data []byte) {
	if err := os.WriteFile(path, data, 0o644); err != nil {
		panic(err)
	}
}
