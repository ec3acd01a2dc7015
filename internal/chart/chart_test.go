package chart

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"math"
	"strings"
	"testing"
)

func figure() Figure {
	red, blue := color.RGBA{R: 0xe0, A: 0xff}, color.RGBA{B: 0xe0, A: 0xff}
	green := color.RGBA{G: 0xc0, A: 0xff}
	return Figure{Width: 640, Height: 720, Panels: []Panel{
		{
			Title: "curves", X: Axis{Label: "epoch", Ticks: TicksInteger}, Y: Axis{Label: "loss"},
			Series: []Series{
				{Name: "train", Color: red, Width: 3, Points: []Point{{X: 1, Y: 3}, {X: 2, Y: 2}, {X: 3, Y: 1.5}, {X: 4, Y: 1}}},
				{Name: "test", Color: blue, Style: Dashed, Width: 3, YErrors: true,
					Points: []Point{{X: 1, Y: 2.5, YLow: 0.2, YHigh: 0.2}, {X: 4, Y: 1.2, YLow: 0.1, YHigh: 0.1}}},
			},
			Markers: []Marker{{X: 2.5, Label: "fine-tuning"}},
		},
		{
			Title: "counts", X: Axis{Ticks: TicksNames, Names: []string{"a", "b"}, Min: -0.5, Max: 1.5},
			Y: Axis{Label: "non-zero", Log: true, Ticks: TicksLog, Suffix: "×"}, Legend: BottomLeft,
			Series: []Series{{Name: "after", Color: green, Style: Points, Glyph: CircleGlyph, Radius: 6, Points: []Point{{X: 0, Y: 10}, {X: 1, Y: 1000}}}},
		},
	}}
}

// count returns how many pixels of img are exactly c.
func count(img image.Image, c color.RGBA) int {
	n := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			if uint8(r>>8) == c.R && uint8(g>>8) == c.G && uint8(bl>>8) == c.B {
				n++
			}
		}
	}
	return n
}

func TestRender(t *testing.T) {
	var buf bytes.Buffer
	if err := Render(figure(), &buf); err != nil {
		t.Fatal(err)
	}
	first := append([]byte(nil), buf.Bytes()...)
	img, err := png.Decode(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != 640 || b.Dy() != 720 {
		t.Fatalf("size %v, want 640×720", b)
	}
	for name, c := range map[string]color.RGBA{"train": {R: 0xe0}, "test": {B: 0xe0}, "after": {G: 0xc0}, "marker": {R: 0x60, G: 0x60, B: 0x60}} {
		if n := count(img, c); n < 5 {
			t.Errorf("%s: %d pixels of %v", name, n, c)
		}
	}
	// The second panel is below the first: the green points are in the
	// lower half only, the red line in the upper half only.
	lower := img.(interface {
		SubImage(image.Rectangle) image.Image
	}).SubImage(image.Rect(0, 360, 640, 720))
	upper := img.(interface {
		SubImage(image.Rectangle) image.Image
	}).SubImage(image.Rect(0, 0, 640, 360))
	if count(upper, color.RGBA{G: 0xc0}) != 0 || count(lower, color.RGBA{G: 0xc0}) == 0 {
		t.Error("the second panel is not below the first")
	}
	if count(lower, color.RGBA{R: 0xe0}) != 0 {
		t.Error("the first panel's series reach the second")
	}
	buf.Reset()
	if err := Render(figure(), &buf); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(first, buf.Bytes()) {
		t.Error("the same figure gave other bytes")
	}
}

// TestRenderColumns: Cols 2 puts the panels side by side.
func TestRenderColumns(t *testing.T) {
	f := figure()
	f.Cols, f.Width, f.Height = 2, 1000, 400
	var buf bytes.Buffer
	if err := Render(f, &buf); err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(&buf)
	if err != nil {
		t.Fatal(err)
	}
	sub := img.(interface {
		SubImage(image.Rectangle) image.Image
	})
	left, right := sub.SubImage(image.Rect(0, 0, 500, 400)), sub.SubImage(image.Rect(500, 0, 1000, 400))
	if count(left, color.RGBA{G: 0xc0}) != 0 || count(right, color.RGBA{G: 0xc0}) == 0 || count(left, color.RGBA{R: 0xe0}) == 0 {
		t.Error("the panels are not side by side")
	}
}

func TestRenderErrors(t *testing.T) {
	var buf bytes.Buffer
	if err := Render(Figure{Width: 100, Height: 100}, &buf); err == nil {
		t.Error("a figure without panels rendered")
	}
	if err := Render(Figure{Panels: []Panel{{}}}, &buf); err == nil {
		t.Error("a figure of size 0 rendered")
	}
	bad := Figure{Width: 100, Height: 100, Panels: []Panel{{Series: []Series{{Points: []Point{{X: math.NaN(), Y: 1}}}}}}}
	if err := Render(bad, &buf); err == nil || !strings.Contains(err.Error(), "panel 1") {
		t.Errorf("a NaN point: %v", err)
	}
}

func TestLogTicks(t *testing.T) {
	var labels []string
	for _, tk := range LogTicks(3, 120, "×") {
		if tk.Label != "" {
			labels = append(labels, tk.Label)
		}
	}
	if got := strings.Join(labels, " "); got != "5× 10× 20× 50× 100×" {
		t.Errorf("labels %q", got)
	}
	// A narrow range labels its ends.
	tk := LogTicks(3.2, 4.5, "")
	if len(tk) != 3 || tk[0].Value != 4 || tk[0].Label != "" || tk[1].Label != "3.2" || tk[2].Label != "4.5" {
		t.Errorf("narrow range %+v", tk)
	}
	if tk := LogTicks(1.1e-6, 3.3e-6, ""); tk[len(tk)-2].Label != "1.1e-06" || tk[len(tk)-1].Label != "3.3e-06" {
		t.Errorf("narrow range below 1: %+v", tk)
	}
	if LogTicks(0, 10, "") != nil || LogTicks(5, 5, "") != nil {
		t.Error("ticks on an empty or non-positive range")
	}
}

func TestIntegerTicks(t *testing.T) {
	join := func(min, max float64) string {
		var s []string
		for _, tk := range IntegerTicks(min, max) {
			s = append(s, tk.Label)
		}
		return strings.Join(s, " ")
	}
	for _, c := range []struct {
		min, max float64
		want     string
	}{{0.6, 4.4, "1 2 3 4"}, {1, 30, "5 10 15 20 25 30"}, {0, 100, "0 10 20 30 40 50 60 70 80 90 100"}, {0, 101, "0 20 40 60 80 100"}, {2, 2, "2"}} {
		if got := join(c.min, c.max); got != c.want {
			t.Errorf("[%v, %v]: %q, want %q", c.min, c.max, got, c.want)
		}
	}
}
