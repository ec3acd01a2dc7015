package infer

import (
	"math"

	"github.com/pkg/errors"
)

// Metrics are the mean softmax cross-entropy loss and the top-1 accuracy
// over N samples, Correct of which are classified right. It is the one
// measure of a model on a data set: Engine.Evaluate and the evaluations of
// package train compute it with Tally.
type Metrics struct {
	Loss     float64 `json:"loss"`
	Accuracy float64 `json:"accuracy"`
	Correct  int     `json:"correct"`
	N        int     `json:"n"`
}

// Tally accumulates Metrics over batches of class scores. The zero value
// is empty.
type Tally struct {
	loss    float64
	correct int
	n       int
}

// Add scores the rows of scores (len(labels) rows of classes values,
// row-major) against labels into t. With probs the rows are the
// probabilities of a trailing softmax and the loss of a row is
// -log p[label]; otherwise they are logits and the loss is the softmax
// cross-entropy, computed in float64 less the row's maximum. A row is
// correct when its largest value (the first of equal ones) is at its
// label. A label outside [0, classes) is an error; t is then unchanged.
func Add[T float32 | float64](t *Tally, scores []T, labels []int, classes int, probs bool) error {
	if len(scores) != len(labels)*classes {
		return errors.Errorf("%d scores for %d samples of %d classes", len(scores), len(labels), classes)
	}
	for i, label := range labels {
		if label < 0 || label >= classes {
			return errors.Errorf("sample %d: label %d outside [0, %d)", i, label, classes)
		}
	}
	for i, label := range labels {
		row := scores[i*classes : (i+1)*classes]
		arg := Argmax(row)
		if arg == label {
			t.correct++
		}
		if probs {
			t.loss -= math.Log(math.Max(float64(row[label]), math.SmallestNonzeroFloat64))
			continue
		}
		mx := float64(row[arg])
		var sum float64
		for _, v := range row {
			sum += math.Exp(float64(v) - mx)
		}
		t.loss += mx + math.Log(sum) - float64(row[label])
	}
	t.n += len(labels)
	return nil
}

// Metrics returns the mean loss and the accuracy of the rows added (all
// zero when none were).
func (t *Tally) Metrics() Metrics {
	if t.n == 0 {
		return Metrics{}
	}
	return Metrics{Loss: t.loss / float64(t.n), Accuracy: float64(t.correct) / float64(t.n), Correct: t.correct, N: t.n}
}

// Argmax is the index of the largest entry of row, the first of equal
// ones (by >, as the scores were always compared). It is the predicted
// class of a row of scores.
func Argmax[T float32 | float64](row []T) int {
	arg := 0
	for j, v := range row {
		if v > row[arg] {
			arg = j
		}
	}
	return arg
}
