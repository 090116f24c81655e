//go:build ignore

// gen draws the tray icons: go run ./assets/icons/gen.go (from the repo root).
package main

import (
	"image"
	"image/color"
	"image/png"
	"os"
)

func main() {
	states := map[string]color.RGBA{
		"ready":       {0x2e, 0x7d, 0x5b, 255},
		"needs_setup": {0xd9, 0x8e, 0x04, 255},
		"unreachable": {0x80, 0x80, 0x80, 255},
		"recording":   {0xd0, 0x30, 0x30, 255},
		"error":       {0x8b, 0x1a, 0x1a, 255},
	}
	for name, bg := range states {
		draw(name, bg)
	}
}

func draw(name string, bg color.RGBA) {
	const n = 64
	img := image.NewRGBA(image.Rect(0, 0, n, n))
	for y := 0; y < n; y++ {
		for x := 0; x < n; x++ {
			// rounded square
			dx, dy := max(0, max(10-x, x-(n-11))), max(0, max(10-y, y-(n-11)))
			if dx*dx+dy*dy > 100 {
				continue
			}
			c := bg
			// the letter H
			if (x >= 18 && x < 26 || x >= 38 && x < 46) && y >= 16 && y < 48 || x >= 18 && x < 46 && y >= 28 && y < 36 {
				c = color.RGBA{255, 255, 255, 255}
			}
			if name == "recording" && (x-50)*(x-50)+(y-14)*(y-14) < 64 {
				c = color.RGBA{255, 255, 255, 255}
			}
			img.Set(x, y, c)
		}
	}
	f, err := os.Create("assets/icons/" + name + ".png")
	if err != nil {
		panic(err)
	}
	defer f.Close()
	png.Encode(f, img)
}
