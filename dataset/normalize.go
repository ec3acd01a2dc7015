package dataset

import (
	"math"

	"github.com/pkg/errors"
)

// Channels returns the number of channels of the samples: Shape[0] for
// images of shape [channels, rows, columns], 1 for every other shape
// (tabular data, or images reshaped to a vector).
func (d *Dataset) Channels() int {
	if len(d.Shape) == 3 {
		return d.Shape[0]
	}
	return 1
}

// ChannelStats returns the mean and the population standard deviation of
// the values of each channel (see Channels) over all samples, computed in
// float64. Both are nil for a dataset without samples.
func (d *Dataset) ChannelStats() (mean, std []float32) {
	c, s := d.Channels(), d.Size()
	if d.N() == 0 || s == 0 {
		return nil, nil
	}
	plane := s / c
	sum := make([]float64, c)
	sq := make([]float64, c)
	x := make([]float32, s)
	for i := range d.N() {
		d.Read(i, x)
		for ch := range c {
			var a, b float64
			for _, v := range x[ch*plane : (ch+1)*plane] {
				a += float64(v)
				b += float64(v) * float64(v)
			}
			sum[ch] += a
			sq[ch] += b
		}
	}
	mean, std = make([]float32, c), make([]float32, c)
	count := float64(d.N() * plane)
	for ch := range c {
		m := sum[ch] / count
		mean[ch] = float32(m)
		std[ch] = float32(math.Sqrt(max(sq[ch]/count-m*m, 0)))
	}
	return mean, std
}

// Normalize standardises d in place: each value x of channel c (see
// Channels) becomes (x-mean[c])/std[c], computed as (x-mean[c])*(1/std[c]).
// Use the training set's ChannelStats (Info.Mean and Info.Std) for the
// training and the test set alike. A data set held in Pixels becomes one
// held in X (its values are no longer bytes/255), so datasets that share
// Pixels with d (Reshape) keep the values they had; datasets that share X
// with d see the change. mean and std must have one finite value per
// channel, every std positive.
func (d *Dataset) Normalize(mean, std []float32) error {
	c := d.Channels()
	if len(mean) != c || len(std) != c {
		return errors.Errorf("normalize %s: %d means and %d standard deviations for %d channels", d.Name, len(mean), len(std), c)
	}
	for ch := range c {
		m, s := float64(mean[ch]), float64(std[ch])
		if math.IsNaN(m) || math.IsInf(m, 0) || !(s > 0) || math.IsInf(s, 0) {
			return errors.Errorf("normalize %s: channel %d has mean %v and standard deviation %v, want finite values and a positive deviation",
				d.Name, ch, mean[ch], std[ch])
		}
	}
	if d.IsBytes() {
		*d = *d.Floats()
	}
	s := d.Size()
	if s == 0 {
		return nil
	}
	plane := s / c
	for i := range d.N() {
		x := d.X[i*s : (i+1)*s]
		for ch := range c {
			m, inv := mean[ch], 1/std[ch]
			p := x[ch*plane : (ch+1)*plane]
			for j, v := range p {
				p[j] = (v - m) * inv
			}
		}
	}
	return nil
}
