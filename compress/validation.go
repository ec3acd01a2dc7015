package compress

import (
	"math"
	"math/rand"
	"sort"

	"github.com/pkg/errors"

	"github.com/spred-go/spred/dataset"
	"github.com/spred-go/spred/models"
	"github.com/spred-go/spred/train"
)

// Validation is the held-out split of the training set of a run with
// Config.ValFraction, and the accuracy and loss on it of the dense input
// and of the final model. Automatic choices (λ and τ of a target) never
// read the test set, and the test figures of the report are the final
// model's.
type Validation struct {
	Fraction      float64  `json:"fraction"`
	Samples       int      `json:"samples"`       // held out
	TrainSamples  int      `json:"train_samples"` // left to train on
	DenseAccuracy *float64 `json:"dense_accuracy"`
	DenseLoss     *float64 `json:"dense_loss"`
	FinalAccuracy *float64 `json:"final_accuracy"`
	FinalLoss     *float64 `json:"final_loss"`
}

// valSeedOffset separates the draw of the validation split from the
// shuffles seeded with the same Config.Seed.
const valSeedOffset = 7919

// HoldOut splits a fraction of d, drawn with seed, off as a validation
// set and returns the rest to train on; both keep d's order. It fails when
// either part would be empty.
func HoldOut(d *dataset.Dataset, fraction float64, seed int64) (trainSet, val *dataset.Dataset, err error) {
	n := d.N()
	nv := int(math.Round(fraction * float64(n)))
	if nv < 1 || nv >= n {
		return nil, nil, errors.Wrapf(ErrConfig, "a validation fraction of %v of %d training samples leaves %d to validate on and %d to train on", fraction, n, nv, n-nv)
	}
	perm := rand.New(rand.NewSource(seed + valSeedOffset)).Perm(n)
	vi, ti := append([]int(nil), perm[:nv]...), append([]int(nil), perm[nv:]...)
	sort.Ints(vi)
	sort.Ints(ti)
	return d.Subset(ti), d.Subset(vi), nil
}

// holdOut applies cfg.ValFraction to data: the data to train on and the
// validation report with its set (nil, nil without a split).
func holdOut(data Data, cfg Config) (Data, *dataset.Dataset, *Validation, error) {
	if cfg.ValFraction == 0 || data.Train == nil {
		return data, nil, nil, nil
	}
	tr, val, err := HoldOut(data.Train, cfg.ValFraction, cfg.Seed)
	if err != nil {
		return data, nil, nil, err
	}
	data.Train = tr
	return data, val, &Validation{Fraction: cfg.ValFraction, Samples: val.N(), TrainSamples: tr.N()}, nil
}

// evalOn measures m on d (nil, nil when d is nil).
func evalOn(m *models.Model, d *dataset.Dataset, batch int) (*float64, *float64, error) {
	if d == nil {
		return nil, nil, nil
	}
	mt, err := train.Evaluate(m, nil, d, batch)
	if err != nil {
		return nil, nil, errors.Wrap(err, "evaluating on the validation split")
	}
	return &mt.Accuracy, &mt.Loss, nil
}
