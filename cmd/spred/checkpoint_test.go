package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"math/rand"
	"strings"
	"testing"
	"time"

	"gorgonia.org/tensor"

	"github.com/spred-go/spred/compress"
	"github.com/spred-go/spred/dataset"
	"github.com/spred-go/spred/models"
	"github.com/spred-go/spred/train"
)

// FuzzCheckpoint feeds the checkpoint reader arbitrary files, and arbitrary
// contents behind a valid magic line and checksum (so that the decoder and
// the checks behind it see them too): it must return an error or a
// checkpoint, never panic, and a checkpoint it returns must be refused or
// resumed by compress.Run without a panic either. The seeds include real
// checkpoints of a tiny run, with its key, so that mutations of their
// fields reach the checks of every field.
func FuzzCheckpoint(f *testing.F) {
	m, data, cfg := tinyRun(f)
	rec := &collect{}
	if _, err := compress.Run(context.Background(), &models.Model{Spec: m.Spec, Params: m.Params.Clone()}, data, cfg, rec); err != nil {
		f.Fatal(err)
	}
	for _, ck := range rec.all {
		b, err := train.EncodeCheckpoint(ck)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		f.Add(b[len(train.CheckpointMagic)+len("sha256:")+65:])
	}
	f.Add([]byte("spred checkpoint v1\n"))
	f.Add([]byte(train.CheckpointMagic + "sha256:00\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, file := range [][]byte{b, sealed(b)} {
			var ck compress.Checkpoint
			err := train.DecodeCheckpoint(file, &ck)
			if err != nil {
				if strings.Contains(err.Error(), "\n") {
					t.Fatalf("error of more than one line: %q", err)
				}
				continue
			}
			if bytes.Equal(file, b) && !bytes.HasPrefix(b, []byte(train.CheckpointMagic)) {
				t.Fatal("accepted a file without the magic line")
			}
			resumePoint(&ck)
			c := cfg
			c.Resume = &ck
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			_, err = compress.Run(ctx, &models.Model{Spec: m.Spec, Params: m.Params.Clone()}, data, c, nil)
			cancel()
			if err != nil && strings.Contains(err.Error(), "\n") {
				t.Fatalf("error of more than one line: %q", err)
			}
		}
	})
}

// tinyRun is a compression run of a few milliseconds: a 4-2 linear model,
// 20 samples, one epoch of spred and one of fine-tuning.
func tinyRun(f *testing.F) (*models.Model, compress.Data, compress.Config) {
	spec := models.Spec{Name: "tiny", Input: []int{4}, Loss: models.LossSoftmaxCrossEntropy,
		Layers: []models.Layer{{Kind: models.Dense, Name: "fc", Units: 2}}}
	m, err := models.New(spec, tensor.Float32, rand.New(rand.NewSource(1)))
	if err != nil {
		f.Fatal(err)
	}
	rng := rand.New(rand.NewSource(2))
	d := &dataset.Dataset{Shape: []int{4}, Classes: 2}
	for i := 0; i < 20; i++ {
		for j := 0; j < 4; j++ {
			d.X = append(d.X, float32(rng.NormFloat64()))
		}
		d.Y = append(d.Y, i%2)
	}
	cfg := compress.Config{Lambda: 0.01, Epochs: 2, Batch: 10, LR: 0.1, Momentum: 0.9, FinetuneEpochs: 1, Seed: 1}
	return m, compress.Data{Train: d, Test: d}, cfg
}

// collect keeps every checkpoint a run hands out.
type collect struct{ all []*compress.Checkpoint }

func (c *collect) Record(*compress.Stats)                   {}
func (c *collect) Checkpoint(ck *compress.Checkpoint) error { c.all = append(c.all, ck); return nil }

// sealed wraps payload as a checkpoint file with a valid checksum.
func sealed(payload []byte) []byte {
	sum := sha256.Sum256(payload)
	return append([]byte(train.CheckpointMagic+"sha256:"+hex.EncodeToString(sum[:])+"\n"), payload...)
}
