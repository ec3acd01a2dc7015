package main

import (
	"flag"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var keepPlots = flag.Bool("keep-plots", false, "copy the run plots of the tests to the temporary folder, for a look")

// readPNG decodes the PNG at path.
func readPNG(t *testing.T, path string) image.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return img
}

// pixels counts the pixels of img of colour c, in the rows [y0, y1).
func pixels(img image.Image, c color.RGBA, y0, y1 int) int {
	n := 0
	b := img.Bounds()
	for y := max(y0, b.Min.Y); y < min(y1, b.Max.Y); y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			if uint8(r>>8) == c.R && uint8(g>>8) == c.G && uint8(bl>>8) == c.B {
				n++
			}
		}
	}
	return n
}

// checkPlot checks the size of the PNG at path and that every colour
// appears in its band of rows.
func checkPlot(t *testing.T, path string, w, h int, bands map[string]struct {
	c      color.RGBA
	y0, y1 int
}) {
	t.Helper()
	img := readPNG(t, path)
	if b := img.Bounds(); b.Dx() != w || b.Dy() != h {
		t.Fatalf("%s: size %v, want %d×%d", path, b, w, h)
	}
	for name, band := range bands {
		if n := pixels(img, band.c, band.y0, band.y1); n < 20 {
			t.Errorf("%s: %d pixels of the colour of %s in rows %d-%d", path, n, name, band.y0, band.y1)
		}
	}
}

type band = struct {
	c      color.RGBA
	y0, y1 int
}

func TestTrainPlot(t *testing.T) {
	dir := t.TempDir()
	plot := filepath.Join(dir, "run.png")
	code, _, errs := runApp(t, "train", "--model", "lenet-300-100", "--epochs", "3", "--train-samples", "300",
		"--batch", "50", "--seed", "3", "--data-dir", mnistDir(t), "--out", filepath.Join(dir, "m.safetensors"), "--quiet", "--plot", plot)
	if code != 0 {
		t.Fatalf("train exited %d: %s", code, errs)
	}
	checkPlot(t, plot, runPlotWidth, 2*runPanelH, map[string]band{
		"train loss": {trainColour, 0, runPanelH}, "test loss": {testColour, 0, runPanelH},
		"train accuracy": {trainColour, runPanelH, 2 * runPanelH}, "test accuracy": {testColour, runPanelH, 2 * runPanelH},
	})
}

// TestCompressPlot: a target-ratio run (λ changes every check) with
// fine-tuning plots four panels (loss, accuracy and sparsity, λ, layers),
// and the Markdown report links the plot by its relative path.
func TestCompressPlot(t *testing.T) {
	in := trainedModel(t)
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "fig"), 0o755); err != nil {
		t.Fatal(err)
	}
	plot, md := filepath.Join(dir, "fig", "run.png"), filepath.Join(dir, "r.md")
	code, _, errs := runApp(t, "compress", "--model", in, "--target-ratio", "5", "--epochs", "2", "--finetune-epochs", "1",
		"--train-samples", "300", "--batch", "50", "--data-dir", mnistDir(t), "--out", filepath.Join(dir, "p.safetensors"),
		"--markdown", md, "--plot", plot, "--quiet")
	if code != 0 {
		t.Fatalf("compress exited %d: %s", code, errs)
	}
	h := runPanelH
	checkPlot(t, plot, runPlotWidth, 4*h, map[string]band{
		"train loss": {trainColour, 0, h}, "test loss": {testColour, 0, h},
		"sparsity": {sparseColor, h, 2 * h}, "λ": {lambdaColor, 2 * h, 3 * h},
		"before": {trainColour, 3 * h, 4 * h}, "after": {testColour, 3 * h, 4 * h},
	})
	if *keepPlots {
		b, _ := os.ReadFile(plot)
		os.WriteFile(filepath.Join(os.TempDir(), "spred-compress-plot.png"), b, 0o644)
	}
	b, err := os.ReadFile(md)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "](fig/run.png)") {
		t.Errorf("the Markdown report does not link the plot:\n%s", b)
	}
}

// TestPlotClaimedBeforeWork: --plot into a missing folder, or onto --out or
// --model, is refused before any training, and nothing is written.
func TestPlotClaimedBeforeWork(t *testing.T) {
	data := mnistDir(t)
	in := trainedModel(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "p.safetensors")
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"train, missing folder", []string{"train", "--model", "lenet-300-100", "--out", out, "--plot", filepath.Join(dir, "no", "run.png")}, "does not exist"},
		{"train, plot is out", []string{"train", "--model", "lenet-300-100", "--out", out, "--plot", out}, "same file"},
		{"compress, missing folder", []string{"compress", "--model", in, "--out", out, "--plot", filepath.Join(dir, "no", "run.png")}, "does not exist"},
		{"compress, plot is out", []string{"compress", "--model", in, "--out", out, "--plot", out}, "same file"},
		{"compress, plot is model", []string{"compress", "--model", in, "--out", out, "--plot", in}, "refusing to overwrite"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append(tc.args, "--epochs", "1", "--train-samples", "300", "--batch", "50", "--data-dir", data)
			code, stdout, errs := runApp(t, args...)
			if code == 0 || !strings.Contains(errs, tc.want) || !strings.Contains(errs, "run.png") && !strings.Contains(errs, "--plot") {
				t.Fatalf("exit %d, stderr %s", code, errs)
			}
			if strings.Contains(errs, "epoch") || stdout != "" {
				t.Errorf("work started before the refusal:\n%s%s", stdout, errs)
			}
			if _, err := os.Stat(out); err == nil {
				t.Errorf("%s was written", out)
			}
		})
	}
}
