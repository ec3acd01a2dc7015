package dataset

import (
	"math/rand"

	"github.com/pkg/errors"
)

// MaxAugmentPad is the largest Augment.Pad accepted.
const MaxAugmentPad = 1 << 15

// Augment is the random transformation of training images: a random crop
// of a zero-padded image and a random horizontal flip. The zero value
// changes nothing and draws nothing.
type Augment struct {
	// Pad is the number of zero rows and columns added on each side of an
	// image before it is cropped back to its size at a random offset, so
	// the content moves by up to Pad pixels in each direction and what
	// moves in is zero. 0: no crop.
	Pad int `json:"pad,omitempty"`
	// Flip mirrors the image left to right with probability 1/2.
	Flip bool `json:"flip,omitempty"`
}

// IsZero reports whether a changes nothing.
func (a Augment) IsZero() bool { return a.Pad == 0 && !a.Flip }

// Validate checks that Pad lies in [0, MaxAugmentPad].
func (a Augment) Validate() error {
	if a.Pad < 0 || a.Pad > MaxAugmentPad {
		return errors.Errorf("augment: pad %d, want 0 to %d", a.Pad, MaxAugmentPad)
	}
	return nil
}

// Apply writes the augmented images of n samples of the given shape
// [channels, rows, columns], read from src, to dst. Both hold n samples
// one after the other (they may be longer); they must not overlap. Every
// channel of a sample gets the same crop and flip.
//
// Draws: for each sample, in order, Apply calls rng.Int63 exactly once when
// a is not zero (one value from rng's Source), and never when a is zero,
// so a batch of n samples draws n values. Of the drawn value v, bit 0
// decides the flip (1: flip; ignored unless Flip), bits 1-31 the row
// offset and bits 32-62 the column offset, each dy = ⌊b·(2·Pad+1)/2³¹⌋ for
// its 31 bits b, so that each offset in [0, 2·Pad] has a probability within
// 2⁻³¹ of 1/(2·Pad+1). The output pixel (y, x) is the padded image's pixel
// (y+dy, x+dx), then, when flipped, (y, columns-1-x) of that crop. The same
// rng state gives the same output, bit for bit. Apply allocates nothing.
func (a Augment) Apply(dst, src []float32, shape []int, n int, rng *rand.Rand) error {
	if err := a.Validate(); err != nil {
		return err
	}
	if len(shape) != 3 || shape[0] <= 0 || shape[1] <= 0 || shape[2] <= 0 {
		return errors.Errorf("augment: sample shape %v, want [channels rows columns]", shape)
	}
	c, h, w := shape[0], shape[1], shape[2]
	size := c * h * w
	if n < 0 || len(src) < n*size || len(dst) < n*size {
		return errors.Errorf("augment: %d samples of shape %v need %d values, src has %d, dst %d",
			n, shape, n*size, len(src), len(dst))
	}
	if a.IsZero() {
		copy(dst[:n*size], src[:n*size])
		return nil
	}
	if rng == nil {
		return errors.New("augment: no random source")
	}
	const mask31 = 1<<31 - 1
	k := uint64(2*a.Pad + 1)
	for i := range n {
		v := uint64(rng.Int63())
		flip := a.Flip && v&1 == 1
		dy := int(((v>>1)&mask31)*k>>31) - a.Pad
		dx := int(((v>>32)&mask31)*k>>31) - a.Pad
		s, d := src[i*size:(i+1)*size], dst[i*size:(i+1)*size]
		for ch := range c {
			shiftPlane(d[ch*h*w:(ch+1)*h*w], s[ch*h*w:(ch+1)*h*w], h, w, dy, dx, flip)
		}
	}
	return nil
}

// shiftPlane sets dst(y, x) to src(y+dy, x+dx), or to src(y+dy,
// w-1-x+dx) when flip, and to 0 where that lies outside src.
func shiftPlane(dst, src []float32, h, w, dy, dx int, flip bool) {
	for y := range h {
		row := dst[y*w : (y+1)*w]
		sy := y + dy
		if sy < 0 || sy >= h {
			clear(row)
			continue
		}
		in := src[sy*w : (sy+1)*w]
		if !flip {
			// sx = x+dx lies in [0, w) for x in [lo, hi).
			lo, hi := max(0, -dx), min(w, w-dx)
			if lo >= hi {
				clear(row)
				continue
			}
			clear(row[:lo])
			copy(row[lo:hi], in[lo+dx:hi+dx])
			clear(row[hi:])
			continue
		}
		// sx = w-1-x+dx lies in [0, w) for x in [lo, hi).
		lo, hi := max(0, dx), min(w, w+dx)
		if lo >= hi {
			clear(row)
			continue
		}
		clear(row[:lo])
		for x := lo; x < hi; x++ {
			row[x] = in[w-1-x+dx]
		}
		clear(row[hi:])
	}
}
