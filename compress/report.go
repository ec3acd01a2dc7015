package compress

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spred-go/spred/models"
)

// Report is the outcome of a compression pass, as plain data. Accuracies are
// fractions in [0, 1]; a stage that did not run is null in JSON. A
// compression ratio is null when every weight it counts is zero.
type Report struct {
	Model    string       `json:"model"`
	Layers   []LayerStats `json:"layers"`
	Totals   Totals       `json:"totals"`
	Accuracy Stages       `json:"accuracy"`
	Loss     Stages       `json:"loss"`
	Settings Settings     `json:"settings"`
	// OutputFile and OutputBytes describe the dense model file written, if
	// the caller wrote one (Run does not write files).
	OutputFile  string  `json:"output_file,omitempty"`
	OutputBytes int64   `json:"output_bytes,omitempty"`
	WallSeconds float64 `json:"wall_seconds"`
	History     []Stats `json:"history,omitempty"`
	// Thin is what thinning removed after a structured pass: units and
	// inputs per layer, FLOPs before and after (nil otherwise).
	Thin *models.ThinReport `json:"thin,omitempty"`
	// Speed is the measured forward-pass time of the dense and the thinned
	// model, if the caller measured it (MeasureSpeed).
	Speed []Speed `json:"speed,omitempty"`
	// Key identifies the run that made the report (see Key): the same key,
	// the same result. A sweep reuses a point's report only under its key.
	Key string `json:"key,omitempty"`
	// Target is what a run that asked for a ratio or a sparsity asked, how
	// λ was found and where it landed (nil otherwise).
	Target *Target `json:"target,omitempty"`
	// Validation holds the figures on the held-out split of the training
	// set (nil without Config.ValFraction).
	Validation *Validation `json:"validation,omitempty"`
	// Recipe is the caller's record of how the run was asked for (spred
	// compress puts its settings there, which --recipe reads back); Run
	// leaves it nil.
	Recipe map[string]any `json:"recipe,omitempty"`
}

// LayerStats counts one prunable weight.
type LayerStats struct {
	Name             string   `json:"name"`
	Shape            []int    `json:"shape"`
	Params           int      `json:"params"`
	NonZero          int      `json:"nonzero"`
	Sparsity         float64  `json:"sparsity"`
	CompressionRatio *float64 `json:"compression_ratio"`
}

// Totals sum the layers and, separately, every parameter of the model
// (biases included).
type Totals struct {
	PrunableParams   int      `json:"prunable_params"`
	PrunableNonZero  int      `json:"prunable_nonzero"`
	CompressionRatio *float64 `json:"compression_ratio"` // prunable params / prunable non-zeros
	AllParams        int      `json:"all_params"`
	AllNonZero       int      `json:"all_nonzero"`
	AllRatio         *float64 `json:"all_compression_ratio"` // all params / all non-zeros
	// Norm counts the batch-norm scales and shifts among AllParams: trained,
	// never pruned nor decayed. Buffers counts the running statistics,
	// which are not parameters and are not in AllParams.
	Norm    int `json:"norm_params,omitempty"`
	Buffers int `json:"buffers,omitempty"`
}

// Stages holds a metric at each stage of the pass.
type Stages struct {
	Dense       *float64 `json:"dense"`       // the input model
	Trained     *float64 `json:"trained"`     // after spred training (u⊙v, before thresholding)
	Thresholded *float64 `json:"thresholded"` // after thresholding and collapsing
	Finetuned   *float64 `json:"finetuned"`   // after masked fine-tuning
	// Thinned is the thresholded model after thinning (structured passes
	// only): the same function with fewer units.
	Thinned *float64 `json:"thinned,omitempty"`
}

// Final is the metric of the last stage that ran, or nil.
func (s Stages) Final() *float64 {
	for _, v := range []*float64{s.Finetuned, s.Thinned, s.Thresholded, s.Trained, s.Dense} {
		if v != nil {
			return v
		}
	}
	return nil
}

// Settings records how the pass ran.
type Settings struct {
	// Method is the compression method (Config.Method, e.g. MethodSpred);
	// not printed by the text and Markdown renderers.
	Method         string  `json:"method"`
	Structure      string  `json:"structure,omitempty"`       // a grouped Config.Structure
	TargetSparsity float64 `json:"target_sparsity,omitempty"` // MethodMagnitude
	Rounds         int     `json:"rounds,omitempty"`          // MethodMagnitude
	RetrainDecay   float64 `json:"retrain_decay,omitempty"`   // MethodMagnitude
	Lambda         float64 `json:"lambda"`
	// LayerScale and LayerLambda are Config's: the rule of λ per weight,
	// and the multipliers given by name as NAME=F items sorted by name and
	// comma-separated, as spred compress --layer-lambda reads them. Decay
	// gives the multipliers they resolved to.
	LayerScale  string `json:"layer_scale,omitempty"`
	LayerLambda string `json:"layer_lambda,omitempty"`
	// LayerThreshold is Config's: τ scaled per weight as λ.
	LayerThreshold bool `json:"layer_threshold,omitempty"`
	// HoldNorms is Config's: the filters a batch norm alone reads held at
	// their starting norms.
	HoldNorms      bool    `json:"hold_norms,omitempty"`
	Threshold      float64 `json:"threshold"`
	EpochThreshold bool    `json:"epoch_threshold"`
	FromScratch    bool    `json:"from_scratch"`
	Epochs         int     `json:"epochs"`
	Batch          int     `json:"batch"`
	LR             float64 `json:"lr"`
	Momentum       float64 `json:"momentum"`
	Nesterov       bool    `json:"nesterov"`
	Schedule       string  `json:"schedule"`
	FinetuneEpochs int     `json:"finetune_epochs"`
	FinetuneLR     float64 `json:"finetune_lr"`
	FinetuneDecay  float64 `json:"finetune_decay,omitempty"` // Config.FinetuneDecay
	// Recalibrate is Config.Recalibrate where the model has batch norm.
	Recalibrate int    `json:"recalibrate,omitempty"`
	Seed        int64  `json:"seed"`
	Dtype       string `json:"dtype"`
	Decay       string `json:"decay"` // which parameters λ applies to
	Tool        string `json:"tool"`
}

// Count fills Layers and Totals from the parameters of m.
func (r *Report) Count(m *models.Model) {
	r.Model = m.Spec.Name
	r.Layers = nil
	r.Totals = Totals{}
	role := map[string]models.ParamInfo{}
	if infos, err := m.Spec.Params(); err == nil {
		for _, pi := range infos {
			role[pi.Name] = pi
		}
	}
	for _, p := range m.Params.All() {
		switch pi := role[p.Name]; {
		case pi.Buffer:
			r.Totals.Buffers += p.Len()
			continue
		case pi.Role == models.RoleScale || pi.Role == models.RoleShift:
			r.Totals.Norm += p.Len()
		}
		nz := p.NonZero()
		r.Totals.AllParams += p.Len()
		r.Totals.AllNonZero += nz
		if !p.Prunable {
			continue
		}
		r.Layers = append(r.Layers, LayerStats{Name: p.Name, Shape: p.Shape(), Params: p.Len(), NonZero: nz,
			Sparsity: 1 - float64(nz)/float64(p.Len()), CompressionRatio: ratio(p.Len(), nz)})
		r.Totals.PrunableParams += p.Len()
		r.Totals.PrunableNonZero += nz
	}
	r.Totals.CompressionRatio = ratio(r.Totals.PrunableParams, r.Totals.PrunableNonZero)
	r.Totals.AllRatio = ratio(r.Totals.AllParams, r.Totals.AllNonZero)
}

func ratio(all, nz int) *float64 {
	if nz == 0 {
		return nil
	}
	r := float64(all) / float64(nz)
	return &r
}

func fmtRatio(r *float64) string {
	if r == nil {
		return "∞"
	}
	return fmt.Sprintf("%.1f×", *r)
}

func fmtPct(v *float64) string {
	if v == nil {
		return "-"
	}
	return fmt.Sprintf("%.2f%%", 100**v)
}

func fmtLoss(v *float64) string {
	if v == nil {
		return "-"
	}
	return fmt.Sprintf("%.4f", *v)
}

// WriteText renders the report as aligned plain text: a per-layer table with
// a totals footer, then the accuracy at every stage and the settings.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s compression of %s (%s, %d epochs, lr %g, seed %d)\n",
		r.Settings.methodName(), r.Model, r.Settings.strength(), r.Settings.Epochs, r.Settings.LR, r.Settings.Seed)
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "layer\tshape\tparams\tnon-zero\tsparsity\tratio\t")
	for _, l := range r.Layers {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%.2f%%\t%s\t\n", l.Name, shapeStr(l.Shape), l.Params, l.NonZero, 100*l.Sparsity, fmtRatio(l.CompressionRatio))
	}
	t := r.Totals
	fmt.Fprintf(tw, "prunable\t\t%d\t%d\t%.2f%%\t%s\t\n", t.PrunableParams, t.PrunableNonZero, 100*sparsity(t.PrunableParams, t.PrunableNonZero), fmtRatio(t.CompressionRatio))
	fmt.Fprintf(tw, "all params\t\t%d\t%d\t%.2f%%\t%s\t\n", t.AllParams, t.AllNonZero, 100*sparsity(t.AllParams, t.AllNonZero), fmtRatio(t.AllRatio))
	if err := tw.Flush(); err != nil {
		return err
	}
	if t.Norm > 0 || t.Buffers > 0 {
		fmt.Fprintf(&b, "batch norm: %d scale and shift values among all params (trained, not prunable, not decayed); %d running-statistics values (buffers, not counted)\n", t.Norm, t.Buffers)
	}
	fmt.Fprintf(&b, "accuracy: dense %s, trained %s, thresholded %s, fine-tuned %s\n",
		fmtPct(r.Accuracy.Dense), fmtPct(r.Accuracy.Trained), fmtPct(r.Accuracy.Thresholded), fmtPct(r.Accuracy.Finetuned))
	fmt.Fprintf(&b, "loss:     dense %s, trained %s, thresholded %s, fine-tuned %s\n",
		fmtLoss(r.Loss.Dense), fmtLoss(r.Loss.Trained), fmtLoss(r.Loss.Thresholded), fmtLoss(r.Loss.Finetuned))
	fmt.Fprintf(&b, "decay: %s; fine-tuning %d epochs at lr %g%s%s\n", r.Settings.Decay, r.Settings.FinetuneEpochs, r.Settings.FinetuneLR,
		finetuneDecay(r.Settings.FinetuneDecay), recalibrated(r.Settings.Recalibrate))
	if r.Target != nil {
		fmt.Fprintf(&b, "target: %s\n", r.Target.describe())
	}
	if v := r.Validation; v != nil {
		fmt.Fprintf(&b, "validation (%d of %d training samples held out, not trained on): accuracy dense %s, final %s; test accuracy final %s\n",
			v.Samples, v.Samples+v.TrainSamples, fmtPct(v.DenseAccuracy), fmtPct(v.FinalAccuracy), fmtPct(r.Accuracy.Final()))
	}
	if err := r.writeThinText(&b); err != nil {
		return err
	}
	if r.OutputFile != "" {
		fmt.Fprintf(&b, "output: %s (%d bytes)\n", r.OutputFile, r.OutputBytes)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteMarkdown renders the report as a Markdown section with a per-layer
// table and a stage table.
func (r *Report) WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "### %s compression of %s\n\n", r.Settings.methodName(), r.Model)
	fmt.Fprintf(&b, "λ = %g, τ = %g, %d epochs (lr %g, %s), fine-tuning %d epochs, seed %d; %s%s.\n\n",
		r.Settings.Lambda, r.Settings.Threshold, r.Settings.Epochs, r.Settings.LR, r.Settings.Schedule, r.Settings.FinetuneEpochs, r.Settings.Seed, r.Settings.Decay, recalibrated(r.Settings.Recalibrate))
	b.WriteString("| layer | shape | params | non-zero | sparsity | ratio |\n|---|---|---:|---:|---:|---:|\n")
	for _, l := range r.Layers {
		fmt.Fprintf(&b, "| %s | %s | %d | %d | %.2f%% | %s |\n", l.Name, shapeStr(l.Shape), l.Params, l.NonZero, 100*l.Sparsity, fmtRatio(l.CompressionRatio))
	}
	t := r.Totals
	fmt.Fprintf(&b, "| **prunable** | | %d | %d | %.2f%% | %s |\n", t.PrunableParams, t.PrunableNonZero, 100*sparsity(t.PrunableParams, t.PrunableNonZero), fmtRatio(t.CompressionRatio))
	fmt.Fprintf(&b, "| **all params** | | %d | %d | %.2f%% | %s |\n\n", t.AllParams, t.AllNonZero, 100*sparsity(t.AllParams, t.AllNonZero), fmtRatio(t.AllRatio))
	if t.Norm > 0 || t.Buffers > 0 {
		fmt.Fprintf(&b, "Batch norm: %d scale and shift values among all params (trained, not prunable, not decayed); %d running-statistics values (buffers, not counted).\n\n", t.Norm, t.Buffers)
	}
	b.WriteString("| stage | accuracy | loss |\n|---|---:|---:|\n")
	for _, s := range []struct {
		name      string
		acc, loss *float64
	}{
		{"dense", r.Accuracy.Dense, r.Loss.Dense},
		{"spred-trained", r.Accuracy.Trained, r.Loss.Trained},
		{"thresholded", r.Accuracy.Thresholded, r.Loss.Thresholded},
		{"fine-tuned", r.Accuracy.Finetuned, r.Loss.Finetuned},
	} {
		fmt.Fprintf(&b, "| %s | %s | %s |\n", s.name, fmtPct(s.acc), fmtLoss(s.loss))
	}
	if r.Target != nil {
		fmt.Fprintf(&b, "\nTarget: %s.\n", r.Target.describe())
	}
	if v := r.Validation; v != nil {
		fmt.Fprintf(&b, "\nValidation: %d of the %d training samples held out (fraction %g): accuracy dense %s, final %s; test accuracy of the final model %s.\n",
			v.Samples, v.Samples+v.TrainSamples, v.Fraction, fmtPct(v.DenseAccuracy), fmtPct(v.FinalAccuracy), fmtPct(r.Accuracy.Final()))
	}
	r.writeThinMarkdown(&b)
	_, err := io.WriteString(w, b.String())
	return err
}

func sparsity(all, nz int) float64 {
	if all == 0 {
		return 0
	}
	return 1 - float64(nz)/float64(all)
}

func shapeStr(s []int) string {
	parts := make([]string, len(s))
	for i, d := range s {
		parts[i] = fmt.Sprint(d)
	}
	return strings.Join(parts, "×")
}

// methodName is the method of the run ("spred" when not recorded).
func (s Settings) methodName() string {
	if s.Method == "" {
		return MethodSpred
	}
	return s.Method
}

// strength describes what sets the sparsity of the run: λ and τ, or the
// target sparsity of a registered method without a λ (and its rounds).
func (s Settings) strength() string {
	if m, err := Lookup(s.methodName()); err == nil && !m.Info().Lambda {
		if m.Info().Rounds {
			return fmt.Sprintf("target sparsity %g in %d rounds", s.TargetSparsity, s.Rounds)
		}
		return fmt.Sprintf("target sparsity %g", s.TargetSparsity)
	}
	return fmt.Sprintf("λ=%g, τ=%g", s.Lambda, s.Threshold)
}

// finetuneDecay renders Settings.FinetuneDecay for the text report ("" for none).
func finetuneDecay(d float64) string {
	if d == 0 {
		return ""
	}
	return fmt.Sprintf(", weight decay %g on the surviving weights", d)
}

// recalibrated is the report's note on Settings.Recalibrate: how the
// running statistics of the pruned model were re-estimated.
func recalibrated(batches int) string {
	if batches == 0 {
		return ""
	}
	return fmt.Sprintf("; batch-norm statistics re-estimated on %d training batches after pruning", batches)
}
