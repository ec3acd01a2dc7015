package graph

// The sums over a channel of batch norm (its mean and variance in the
// forward pass, Σ dy and Σ dy·(x − μ) in the backward pass) are each one
// chain of float64 additions over the channel's values in order: every
// addition waits on the one before. channelSums runs eight channels'
// chains side by side in one loop, the additions of each chain the same
// and in the same order as the plain loop's, so the sums are bit for bit
// the same and the CPU overlaps the eight chains' waits.

// sumKind is what channelSums adds up.
type sumKind int

const (
	sumX       sumKind = iota // Σ x
	sumSquares                // Σ (x − μ)²
	sumProduct                // Σ y·(x − μ)
)

// channelSums sets out[c-c0], for the channels c in [c0, c1), to the sum
// of kind over channel c of x (and y for sumProduct; mean holds μ per
// channel for sumSquares and sumProduct), in the order of the batch and
// then of the plane, as one float64 chain per channel.
func channelSums[T float32 | float64](g bnGeom, c0, c1 int, kind sumKind, x, y []T, mean, out []float64) {
	c := c0
	for ; c+8 <= c1; c += 8 {
		sums8(g, c, kind, x, y, mean, out[c-c0:c-c0+8])
	}
	for ; c < c1; c++ {
		var s float64
		mu := 0.0
		if kind != sumX {
			mu = mean[c]
		}
		for b := 0; b < g.n; b++ {
			off := (b*g.c + c) * g.hw
			p := x[off : off+g.hw]
			switch kind {
			case sumX:
				for _, e := range p {
					s += float64(e)
				}
			case sumSquares:
				for _, e := range p {
					d := float64(e) - mu
					s += d * d
				}
			case sumProduct:
				q := y[off : off+g.hw]
				for i, e := range p {
					s += float64(q[i]) * (float64(e) - mu)
				}
			}
		}
		out[c-c0] = s
	}
}

// sums8 is channelSums for the eight channels c to c+7, whose planes are
// adjacent in every batch element.
func sums8[T float32 | float64](g bnGeom, c int, kind sumKind, x, y []T, mean, out []float64) {
	hw := g.hw
	var m [8]float64
	if kind != sumX {
		copy(m[:], mean[c:c+8])
	}
	var s0, s1, s2, s3, s4, s5, s6, s7 float64
	for b := 0; b < g.n; b++ {
		off := (b*g.c + c) * hw
		x0 := x[off : off+hw]
		x1, x2, x3 := x[off+hw:][:len(x0)], x[off+2*hw:][:len(x0)], x[off+3*hw:][:len(x0)]
		x4, x5, x6 := x[off+4*hw:][:len(x0)], x[off+5*hw:][:len(x0)], x[off+6*hw:][:len(x0)]
		x7 := x[off+7*hw:][:len(x0)]
		switch kind {
		case sumX:
			for i, e := range x0 {
				s0 += float64(e)
				s1 += float64(x1[i])
				s2 += float64(x2[i])
				s3 += float64(x3[i])
				s4 += float64(x4[i])
				s5 += float64(x5[i])
				s6 += float64(x6[i])
				s7 += float64(x7[i])
			}
		case sumSquares:
			for i, e := range x0 {
				d0 := float64(e) - m[0]
				d1 := float64(x1[i]) - m[1]
				d2 := float64(x2[i]) - m[2]
				d3 := float64(x3[i]) - m[3]
				d4 := float64(x4[i]) - m[4]
				d5 := float64(x5[i]) - m[5]
				d6 := float64(x6[i]) - m[6]
				d7 := float64(x7[i]) - m[7]
				s0 += d0 * d0
				s1 += d1 * d1
				s2 += d2 * d2
				s3 += d3 * d3
				s4 += d4 * d4
				s5 += d5 * d5
				s6 += d6 * d6
				s7 += d7 * d7
			}
		case sumProduct:
			y0 := y[off : off+hw][:len(x0)]
			y1, y2, y3 := y[off+hw:][:len(x0)], y[off+2*hw:][:len(x0)], y[off+3*hw:][:len(x0)]
			y4, y5, y6 := y[off+4*hw:][:len(x0)], y[off+5*hw:][:len(x0)], y[off+6*hw:][:len(x0)]
			y7 := y[off+7*hw:][:len(x0)]
			for i, e := range x0 {
				s0 += float64(y0[i]) * (float64(e) - m[0])
				s1 += float64(y1[i]) * (float64(x1[i]) - m[1])
				s2 += float64(y2[i]) * (float64(x2[i]) - m[2])
				s3 += float64(y3[i]) * (float64(x3[i]) - m[3])
				s4 += float64(y4[i]) * (float64(x4[i]) - m[4])
				s5 += float64(y5[i]) * (float64(x5[i]) - m[5])
				s6 += float64(y6[i]) * (float64(x6[i]) - m[6])
				s7 += float64(y7[i]) * (float64(x7[i]) - m[7])
			}
		}
	}
	out[0], out[1], out[2], out[3], out[4], out[5], out[6], out[7] = s0, s1, s2, s3, s4, s5, s6, s7
}
