package train

import (
	"context"
	"math/rand"

	"github.com/pkg/errors"

	"github.com/spred-go/spred/dataset"
	"github.com/spred-go/spred/graph"
	"github.com/spred-go/spred/models"
)

// Recalibrate re-estimates the running statistics of every batch-norm
// layer of m from the training data, in place, and leaves every other
// parameter as it was. Pruning changes what each convolution puts out, so
// the statistics gathered on the dense (or still shrinking) weights no
// longer describe it: a thresholded network evaluated on them can lose
// most of its accuracy although its batch statistics are fine.
//
// It runs the training graph forward on up to batches batches of batch
// samples (drawn without replacement with seed, no augmentation, nothing
// trained) and sets each running mean and variance to the average of the
// per-batch mean and unbiased variance, as PyTorch's BatchNorm with
// momentum None does. src supplies the prunable weights (nil: the model's
// own). A model without batch norm is left untouched; batches ≤ 0 does
// nothing either. The result depends only on the model, the data and the
// arguments.
func Recalibrate(ctx context.Context, m *models.Model, src graph.WeightSource, d *dataset.Dataset, batches, batch int, seed int64) error {
	if batches <= 0 {
		return nil
	}
	bufs, err := m.Buffers()
	if err != nil {
		return err
	}
	if len(bufs) == 0 {
		return nil
	}
	if batch <= 0 {
		return errors.Errorf("recalibration batch %d, want > 0", batch)
	}
	if d == nil || d.N() < batch {
		return errors.Errorf("recalibration needs at least one batch of %d training samples", batch)
	}
	if err := checkData(m, d); err != nil {
		return err
	}
	if n := d.N() / batch; batches > n {
		batches = n
	}
	// Momentum 1 makes every run leave its own batch statistics in the
	// buffers, which are summed here; the training-mode forward pass reads
	// only batch statistics, so the overwritten buffers change nothing.
	spec := m.Spec
	spec.Layers = append([]models.Layer(nil), m.Spec.Layers...)
	for i := range spec.Layers {
		if spec.Layers[i].Kind == models.BatchNorm2d {
			spec.Layers[i].Momentum = 1
		}
	}
	sess, err := graph.New(&models.Model{Spec: spec, Params: m.Params, Meta: m.Meta}, graph.Options{Batch: batch, Source: src, Train: true, NoGrad: true})
	if err != nil {
		return errors.Wrap(err, "recalibration graph")
	}
	defer sess.Close()
	sums := make([][]float64, len(bufs))
	orig := make([][]float64, len(bufs))
	for i, p := range bufs {
		sums[i] = make([]float64, p.Len())
		orig[i] = append([]float64(nil), p.Float64s()...)
	}
	// Each run overwrites the buffers with its batch's statistics: on a
	// failure they are put back as they were.
	restore := func(err error) error {
		for i, p := range bufs {
			_ = p.SetFloat64s(orig[i])
		}
		return err
	}
	rng := rand.New(rand.NewSource(seed))
	perm := rng.Perm(d.N())
	x := make([]float32, batch*d.Size())
	y := make([]int, batch)
	for b := 0; b < batches; b++ {
		if err := ctx.Err(); err != nil {
			return restore(err)
		}
		idx := perm[b*batch : (b+1)*batch]
		d.ReadBatch(idx, x)
		for i, j := range idx {
			y[i] = d.Y[j]
		}
		if _, err := sess.Run(x, y, rng); err != nil {
			return restore(errors.Wrapf(err, "recalibration batch %d", b+1))
		}
		for i, p := range bufs {
			for k, v := range p.Float64s() {
				sums[i][k] += v
			}
		}
	}
	for i, p := range bufs {
		for k := range sums[i] {
			sums[i][k] /= float64(batches)
		}
		if err := p.SetFloat64s(sums[i]); err != nil {
			return err
		}
	}
	return nil
}
