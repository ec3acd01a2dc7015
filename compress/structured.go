package compress

import (
	"context"
	"fmt"
	"math"
	"math/rand"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/spred-go/spred/graph"
	"github.com/spred-go/spred/models"
	"github.com/spred-go/spred/train"
)

// The structures Config.Structure accepts.
const (
	StructureElement = "element" // w = u⊙v for every weight: L1 (the zero value means this)
	StructureNeuron  = "neuron"  // dense layers: one scale per output neuron; conv2d layers element-wise
	StructureFilter  = "filter"  // conv2d layers: one scale per filter; dense layers element-wise
	StructureMixed   = "mixed"   // neurons of dense layers and filters of conv2d layers
)

// Structures lists the accepted values of Config.Structure.
var Structures = []string{StructureElement, StructureNeuron, StructureFilter, StructureMixed}

// structured reports whether c asks for a grouped rewrite.
func (c Config) structured() bool {
	return c.Structure != "" && c.Structure != StructureElement
}

// grouped reports whether structure puts one scale per unit on layers of
// kind (models.Dense or models.Conv2d).
func grouped(structure, kind string) bool {
	switch structure {
	case StructureNeuron:
		return kind == models.Dense
	case StructureFilter:
		return kind == models.Conv2d
	case StructureMixed:
		return kind == models.Dense || kind == models.Conv2d
	}
	return false
}

// Groups is the factorisation of a structured pass. The weight of every
// grouped layer is rewritten per unit (an output neuron of a dense layer,
// whose weights are a column of W [in, out]; a filter of a conv2d layer,
// W[f] of W [filters, channels, k, k]) as
//
//	w_unit = g_unit · V_unit
//
// with one scalar g per unit and V of the weight's shape; the other prunable
// weights keep the element-wise factors u⊙v. Groups is a graph.WeightSource:
// it registers g and V (or u and v) as learnables decayed by the same λ.
//
// # The group-lasso factor
//
// Decaying g and every entry of V by the same λ is exactly the group lasso
// λ Σ_units ‖w_unit‖₂ on the mean loss, with factor 1 and no √(group size):
// for a fixed w_unit = g·V,
//
//	(λ/2)(g² + ‖V‖²) ≥ λ |g|·‖V‖ = λ ‖w_unit‖₂,
//
// with equality exactly at balance, g² = ‖V‖². Any w_unit can be split in
// balance with g = √‖w_unit‖₂, V = w_unit/√‖w_unit‖₂ (SplitGroups does), so
// the minimum over (g, V) of L(g·V) + (λ/2)(Σg² + ‖V‖²) equals the minimum
// over w of L(w) + λ Σ‖w_unit‖₂. More generally, decays a on g and b on V
// give √(ab)·‖w_unit‖₂; a group lasso weighted by √p_unit (p_unit weights in
// the unit) would need the decay λ·p_unit on g. Penalty computes the
// left-hand side, so tests can check the identity.
type Groups struct {
	elem  *Factors
	pairs map[string]*GroupPair
	order []string // every prunable weight, in parameter order
}

// GroupPair is the factorisation w_unit = G[unit]·V_unit of one weight.
type GroupPair struct {
	Name  string        // the weight's parameter name
	Conv  bool          // a conv2d weight [filters, channels, k, k]; otherwise dense [in, out]
	Units int           // output neurons or filters
	G     *tensor.Dense // [Units], the weight's dtype
	V     *tensor.Dense // the weight's shape and dtype
}

// SplitGroups factorises the prunable weights of m for structure: grouped
// layers into balanced (g, V), the others into balanced (u, v) as Split
// does. The network computes the same function. It fails when structure
// groups no layer of m.
func SplitGroups(m *models.Model, structure string) (*Groups, error) {
	if !(structure == StructureNeuron || structure == StructureFilter || structure == StructureMixed) {
		return nil, errors.Wrapf(ErrConfig, "structure %q is not a grouped one (want neuron, filter or mixed)", structure)
	}
	if err := models.Thinnable(m.Spec); err != nil {
		return nil, errors.Wrapf(ErrConfig, "structured spred: %v", err)
	}
	if models.ChainThinnable(m.Spec) != nil {
		return nil, errors.Wrapf(ErrConfig, "model %q is thinned by channel spaces: use SplitCoupled", m.Spec.Name)
	}
	elem, err := Split(m)
	if err != nil {
		return nil, err
	}
	gs := &Groups{elem: elem, pairs: map[string]*GroupPair{}, order: elem.order}
	kinds := map[string]string{}
	for _, l := range m.Spec.Layers {
		if l.Kind == models.Dense || l.Kind == models.Conv2d {
			kinds[models.WeightName(l.Name)] = l.Kind
		}
	}
	var keep []string
	for _, name := range elem.order {
		kind := kinds[name]
		if !grouped(structure, kind) {
			keep = append(keep, name)
			continue
		}
		p := m.Params.Get(name)
		gp := &GroupPair{Name: name, Conv: kind == models.Conv2d}
		sh := p.Shape()
		if gp.Conv {
			gp.Units = sh[0]
		} else {
			gp.Units = sh[1]
		}
		w := p.Float64s()
		g := make([]float64, gp.Units)
		v := make([]float64, len(w))
		for j := range g {
			norm := 0.0
			gp.each(len(w), j, func(i int) { norm += w[i] * w[i] })
			norm = math.Sqrt(norm)
			if norm == 0 {
				continue
			}
			g[j] = math.Sqrt(norm)
			gp.each(len(w), j, func(i int) { v[i] = w[i] / g[j] })
		}
		pg := models.NewParam(name+".g", false, p.Value.Dtype(), []int{gp.Units})
		pv := models.NewParam(name+".V", false, p.Value.Dtype(), sh)
		if err := pg.SetFloat64s(g); err != nil {
			return nil, err
		}
		if err := pv.SetFloat64s(v); err != nil {
			return nil, err
		}
		gp.G, gp.V = pg.Value, pv.Value
		gs.pairs[name] = gp
		delete(elem.pairs, name)
	}
	elem.order = keep
	if len(gs.pairs) == 0 {
		return nil, errors.Wrapf(ErrConfig, "structure %s groups no layer of model %q (neuron needs a dense layer, filter a conv2d layer)", structure, m.Spec.Name)
	}
	return gs, nil
}

// each calls f with the index of every weight of unit j in a weight of n
// values.
func (gp *GroupPair) each(n, j int, f func(i int)) {
	if gp.Conv {
		per := n / gp.Units
		for i := j * per; i < (j+1)*per; i++ {
			f(i)
		}
		return
	}
	for i := j; i < n; i += gp.Units {
		f(i)
	}
}

// Grouped returns the grouped pairs in parameter order.
func (gs *Groups) Grouped() []*GroupPair {
	var out []*GroupPair
	for _, n := range gs.order {
		if gp, ok := gs.pairs[n]; ok {
			out = append(out, gp)
		}
	}
	return out
}

// Elementwise returns the element-wise factors of the weights not grouped.
func (gs *Groups) Elementwise() *Factors { return gs.elem }

// Weight implements graph.WeightSource: g·V broadcast over each unit, with g
// and V registered as decayed learnables "<weight>.g" and "<weight>.V"; an
// element-wise weight is u⊙v as for Factors.
func (gs *Groups) Weight(b *graph.Builder, p *models.Param) (*gorgonia.Node, error) {
	gp, ok := gs.pairs[p.Name]
	if !ok {
		return gs.elem.Weight(b, p)
	}
	g, err := b.Learnable(p.Name+".g", gp.G, true)
	if err != nil {
		return nil, err
	}
	v, err := b.Learnable(p.Name+".V", gp.V, true)
	if err != nil {
		return nil, err
	}
	if gp.Conv {
		return gorgonia.BroadcastHadamardProd(v, g, nil, []byte{1, 2, 3})
	}
	return gorgonia.BroadcastHadamardProd(v, g, nil, []byte{0})
}

// norms returns ‖w_unit‖₂ = |g|·‖V_unit‖ of every unit.
func (gp *GroupPair) norms() []float64 {
	g, v := models.Float64s(gp.G.Data()), models.Float64s(gp.V.Data())
	out := make([]float64, gp.Units)
	for j := range out {
		s := 0.0
		gp.each(len(v), j, func(i int) { s += v[i] * v[i] })
		out[j] = math.Abs(g[j]) * math.Sqrt(s)
	}
	return out
}

// GroupNorms returns ‖w_unit‖₂ of every unit of every grouped weight.
func (gs *Groups) GroupNorms() map[string][]float64 {
	out := map[string][]float64{}
	for _, gp := range gs.Grouped() {
		out[gp.Name] = gp.norms()
	}
	return out
}

// Penalty is the decay term (λ/2)(Σg² + ‖V‖² + ‖u‖² + ‖v‖²) over all
// factors: at balance, λ(Σ_units ‖w_unit‖₂ + ‖w_elementwise‖₁).
func (gs *Groups) Penalty(lambda float64) float64 {
	s := 0.0
	sq := func(t *tensor.Dense) {
		for _, x := range models.Float64s(t.Data()) {
			s += x * x
		}
	}
	for _, gp := range gs.Grouped() {
		sq(gp.G)
		sq(gp.V)
	}
	for _, p := range gs.elem.Pairs() {
		sq(p.U)
		sq(p.V)
	}
	return lambda / 2 * s
}

// Threshold zeroes every unit whose weight norm ‖w_unit‖₂ is below tau (g
// and V_unit both set to 0) and every element-wise weight with |u⊙v| < tau,
// and zeroes opt's velocity of every entry it sets to zero (opt may be nil;
// see Factors.Threshold). It returns the units and elements it zeroed that
// were not zero already.
func (gs *Groups) Threshold(tau float64, opt Momentum) (units, elements int) {
	for _, gp := range gs.Grouped() {
		norms := gp.norms()
		g, v := models.Float64s(gp.G.Data()), models.Float64s(gp.V.Data())
		changed := false
		var gIdx, vIdx []int
		for j, n := range norms {
			if n >= tau {
				continue
			}
			if n != 0 {
				units++
			}
			if g[j] != 0 {
				changed = true
			}
			g[j] = 0
			gIdx = append(gIdx, j)
			gp.each(len(v), j, func(i int) {
				if v[i] != 0 {
					changed = true
				}
				v[i] = 0
				vIdx = append(vIdx, i)
			})
		}
		if changed {
			setData(gp.G, g)
			setData(gp.V, v)
		}
		if opt != nil && len(gIdx) > 0 {
			opt.ZeroVelocity(gp.Name+".g", gIdx)
			opt.ZeroVelocity(gp.Name+".V", vIdx)
		}
	}
	return units, gs.elem.Threshold(tau, opt)
}

func setData(t *tensor.Dense, vals []float64) {
	switch d := t.Data().(type) {
	case []float32:
		for i, x := range vals {
			d[i] = float32(x)
		}
	case []float64:
		copy(d, vals)
	}
}

// Collapse writes g·V and u⊙v into the prunable weights of m, the model
// the factors were made from.
func (gs *Groups) Collapse(m *models.Model) error {
	for _, gp := range gs.Grouped() {
		w := m.Params.Get(gp.Name)
		if w == nil {
			return errors.Errorf("collapse: model has no weight %q", gp.Name)
		}
		if !w.Value.Shape().Eq(gp.V.Shape()) || w.Value.Dtype() != gp.V.Dtype() {
			return errors.Errorf("collapse: weight %q is %v %v, factors are %v %v", gp.Name, w.Value.Dtype(), w.Value.Shape(), gp.V.Dtype(), gp.V.Shape())
		}
		g, v := models.Float64s(gp.G.Data()), models.Float64s(gp.V.Data())
		out := make([]float64, len(v))
		for j := range g {
			gp.each(len(v), j, func(i int) { out[i] = g[j] * v[i] })
		}
		// In float32 the product is rounded once, as Gorgonia's is.
		if err := w.SetFloat64s(out); err != nil {
			return err
		}
	}
	return gs.elem.Collapse(m)
}

// Stats measures the factors against tau: Small counts the weights of units
// with ‖w_unit‖₂ < tau and the element-wise weights with |u⊙v| < tau;
// Imbalance is the mean of |g² − ‖V_unit‖²| over units and |u² − v²| over
// element-wise weights.
func (gs *Groups) Stats(tau float64) FactorStats {
	st := gs.elem.Stats(tau)
	imb := st.Imbalance * float64(st.Weights)
	terms := st.Weights
	for _, gp := range gs.Grouped() {
		g, v := models.Float64s(gp.G.Data()), models.Float64s(gp.V.Data())
		per := len(v) / gp.Units
		for j, n := range gp.norms() {
			s := 0.0
			gp.each(len(v), j, func(i int) { s += v[i] * v[i] })
			imb += math.Abs(g[j]*g[j] - s)
			if n < tau {
				st.Small += per
			}
		}
		st.Weights += len(v)
		terms += gp.Units
	}
	if terms > 0 {
		st.Imbalance = imb / float64(terms)
	}
	return st
}

// structuredSource is what the structured pass trains: Groups on chains,
// Coupled on networks thinned by channel spaces.
type structuredSource interface {
	graph.WeightSource
	Threshold(tau float64, opt Momentum) (units, elements int)
	Collapse(m *models.Model) error
	Stats(tau float64) FactorStats
}

// splitStructured picks the factorisation of the structured pass for m.
func splitStructured(m *models.Model, structure string) (structuredSource, *Coupled, error) {
	if err := models.Thinnable(m.Spec); err != nil {
		return nil, nil, errors.Wrapf(ErrConfig, "structured spred: %v", err)
	}
	if models.ChainThinnable(m.Spec) == nil {
		gs, err := SplitGroups(m, structure)
		return gs, nil, err
	}
	c, err := SplitCoupled(m, structure)
	return c, c, err
}

// structuredPhase trains the grouped factors of work with decay λ (on
// networks thinned by channel spaces, the g·V factors of the coupled
// channel groups), thresholds units and elements, collapses, thins work
// into the smaller dense model (work's spec and parameters are replaced),
// measures the stages and returns the zero mask of the thinned model for
// fine-tuning.
func structuredPhase(ctx context.Context, work *models.Model, data Data, cfg Config, ck *Checkpoint, r *Report, rec Recorder,
	eval func(graph.WeightSource) (*float64, *float64, error), save func(*train.State) error) (*Mask, error) {
	gs, coupled, err := splitStructured(work, cfg.Structure)
	if err != nil {
		return nil, err
	}
	var opt *train.SGD
	if coupled != nil {
		r.Settings.Decay = coupledDecaySetting(cfg.Structure)
	}
	hooks := train.Hooks{
		Optimizer: func(o *train.SGD) { opt = o },
		BeforeEpoch: func(epoch int) error {
			if cfg.EpochThreshold && epoch > 1 {
				tau, err := r.Target.structuredCapped(cfg.Threshold, gs, work)
				if err != nil {
					return err
				}
				gs.Threshold(tau, opt)
			}
			return nil
		},
		AfterStep:  stepper(rec, PhaseSpred, cfg.Epochs),
		Checkpoint: save,
	}
	hooks = r.Target.drive(hooks, setDecay, fixedTau(cfg.Threshold), func() ([]float64, []int) { return unitMagnitudes(gs) })
	record := train.RecorderFunc(func(s *train.EpochStats) {
		st := gs.Stats(cfg.Threshold)
		full := Stats{Phase: PhaseSpred, EpochStats: *s, Sparsity: st.Sparsity(), Imbalance: st.Imbalance}
		r.History = append(r.History, full)
		if rec != nil {
			rec.Record(&full)
		}
	})
	tc := cfg.spredTrain()
	if ck != nil {
		tc.Resume = ck.Train
	}
	if cfg.Epochs > 0 {
		if _, err := train.Fit(ctx, work, data, tc, gs, hooks, record); err != nil {
			return nil, errors.Wrap(lambdaHint(err, cfg), "structured spred training")
		}
	}
	if r.Accuracy.Trained, r.Loss.Trained, err = eval(gs); err != nil {
		return nil, errors.Wrap(err, "evaluating the trained model")
	}
	tau, err := r.Target.structuredFinal(cfg.Threshold, gs, work)
	if err != nil {
		return nil, err
	}
	gs.Threshold(tau, nil)
	if err := gs.Collapse(work); err != nil {
		return nil, err
	}
	if r.Accuracy.Thresholded, r.Loss.Thresholded, err = eval(nil); err != nil {
		return nil, errors.Wrap(err, "evaluating the thresholded model")
	}
	thin, rep, err := models.Thin(work)
	if err != nil {
		return nil, errors.Wrap(err, "thinning")
	}
	work.Spec, work.Params = thin.Spec, thin.Params
	r.Thin = rep
	if r.Accuracy.Thinned, r.Loss.Thinned, err = eval(nil); err != nil {
		return nil, errors.Wrap(err, "evaluating the thinned model")
	}
	return MaskOf(work), nil
}

// countThinned fills Layers and Totals with the non-zeros of the thinned
// model m against the shapes and counts of the original spec, so that
// ratios compare with element-wise runs.
func (r *Report) countThinned(orig models.Spec, m *models.Model) error {
	infos, err := orig.Params()
	if err != nil {
		return err
	}
	r.Model = m.Spec.Name
	r.Layers = nil
	r.Totals = Totals{}
	for _, pi := range infos {
		n := 1
		for _, d := range pi.Shape {
			n *= d
		}
		nz := 0
		if p := m.Params.Get(pi.Name); p != nil {
			nz = p.NonZero()
		}
		r.Totals.AllParams += n
		r.Totals.AllNonZero += nz
		if !pi.Prunable {
			continue
		}
		r.Layers = append(r.Layers, LayerStats{Name: pi.Name, Shape: pi.Shape, Params: n, NonZero: nz,
			Sparsity: 1 - float64(nz)/float64(n), CompressionRatio: ratio(n, nz)})
		r.Totals.PrunableParams += n
		r.Totals.PrunableNonZero += nz
	}
	r.Totals.CompressionRatio = ratio(r.Totals.PrunableParams, r.Totals.PrunableNonZero)
	r.Totals.AllRatio = ratio(r.Totals.AllParams, r.Totals.AllNonZero)
	return nil
}

// Speed is the measured forward-pass time of a model at one batch size.
type Speed struct {
	Batch int `json:"batch"`
	// DenseSeconds and ThinSeconds are the median seconds of one forward
	// pass (Gorgonia, float32, one batch) of the dense and the thinned
	// model.
	DenseSeconds float64 `json:"dense_seconds"`
	ThinSeconds  float64 `json:"thin_seconds"`
	Speedup      float64 `json:"speedup"` // DenseSeconds / ThinSeconds
	Runs         int     `json:"runs"`    // forward passes timed per model
}

// MeasureSpeed times forward passes of dense and thin (inference graphs,
// float32, random inputs from seed 1) at every batch size, for about budget
// per model and batch size, alternating the two models in rounds so that
// load from other processes affects both alike; it returns the medians.
func MeasureSpeed(dense, thin *models.Model, batches []int, budget time.Duration) ([]Speed, error) {
	var out []Speed
	for _, b := range batches {
		if b < 1 {
			return nil, errors.Errorf("batch size %d (want ≥ 1)", b)
		}
		sp, err := measure(dense, thin, b, budget)
		if err != nil {
			return nil, err
		}
		out = append(out, sp)
	}
	return out, nil
}

func measure(dense, thin *models.Model, b int, budget time.Duration) (Speed, error) {
	var times [2][]float64
	var sess [2]*graph.Session
	for k, m := range []*models.Model{dense, thin} {
		ps, err := m.Params.AsType(tensor.Float32)
		if err != nil {
			return Speed{}, err
		}
		s, err := graph.New(&models.Model{Spec: m.Spec, Params: ps}, graph.Options{Batch: b})
		if err != nil {
			return Speed{}, err
		}
		defer s.Close()
		sess[k] = s
	}
	rng := rand.New(rand.NewSource(1))
	x := make([]float32, b*dense.Spec.InputSize())
	for i := range x {
		x[i] = rng.Float32()
	}
	y := make([]int, b)
	deadline := time.Now().Add(2 * budget)
	for round := 0; round < 3 || time.Now().Before(deadline); round++ {
		for k := range sess {
			start := time.Now()
			if _, err := sess[k].Run(x, y, nil); err != nil {
				return Speed{}, err
			}
			times[k] = append(times[k], time.Since(start).Seconds())
		}
	}
	sp := Speed{Batch: b, DenseSeconds: median(times[0]), ThinSeconds: median(times[1]), Runs: len(times[0])}
	if sp.ThinSeconds > 0 {
		sp.Speedup = sp.DenseSeconds / sp.ThinSeconds
	}
	return sp, nil
}

func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	if len(s) == 0 {
		return 0
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// structureSetting is the structure recorded in the report: empty for the
// element-wise pass, so that its reports stay as they were.
func structureSetting(c Config) string {
	if c.structured() {
		return c.Structure
	}
	return ""
}

// decaySetting says which parameters λ applies to.
func decaySetting(c Config) string {
	switch {
	case !c.structured():
		return "λ on u and v of every prunable weight; biases not decayed"
	case c.Structure == StructureNeuron:
		return "λ on g and V of dense layers (group lasso over neurons), on u and v of conv2d layers; biases not decayed"
	case c.Structure == StructureFilter:
		return "λ on g and V of conv2d layers (group lasso over filters), on u and v of dense layers; biases not decayed"
	}
	return "λ on g and V of every prunable weight (group lasso over neurons and filters); biases not decayed"
}

// coupledDecaySetting is decaySetting for the coupled channel groups.
func coupledDecaySetting(structure string) string {
	what := map[string]string{StructureFilter: "conv2d", StructureNeuron: "dense", StructureMixed: "conv2d and dense"}[structure]
	return "λ on g and V of the coupled channels of " + what + " layers (group lasso λ Σ‖group‖₂ over filters or neurons with their biases and batch-norm scales and shifts, one scale g per channel and a factor V of every tensor of the group); λ on u and v of the other prunable weights; other biases not decayed"
}

// writeThinText renders the thinning and speed sections of a structured
// pass (nothing otherwise).
func (r *Report) writeThinText(b *strings.Builder) error {
	if r.Thin == nil {
		return nil
	}
	fmt.Fprintf(b, "structure %s: thinned to %s, accuracy %s after thinning\n", r.Settings.Structure, widths(r.Thin), fmtPct(r.Accuracy.Thinned))
	tw := tabwriter.NewWriter(b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "layer\tunits\tkept\tinputs\tkept\t")
	for _, l := range r.Thin.Layers {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t\n", l.Name, l.UnitsBefore, l.UnitsAfter, l.InputsBefore, l.InputsAfter)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(b, "FLOPs per example (multiply-adds): %d → %d (%s fewer)\n", r.Thin.FLOPsBefore, r.Thin.FLOPsAfter, flopsRatio(r.Thin))
	for _, s := range r.Speed {
		fmt.Fprintf(b, "forward pass, batch %d: dense %s, thinned %s (%.2f× faster, median of %d)\n", s.Batch, fmtSeconds(s.DenseSeconds), fmtSeconds(s.ThinSeconds), s.Speedup, s.Runs)
	}
	return nil
}

// writeThinMarkdown is writeThinText as Markdown tables.
func (r *Report) writeThinMarkdown(b *strings.Builder) {
	if r.Thin == nil {
		return
	}
	fmt.Fprintf(b, "\nStructure %s: thinned to %s; accuracy after thinning %s.\n\n", r.Settings.Structure, widths(r.Thin), fmtPct(r.Accuracy.Thinned))
	b.WriteString("| layer | units | kept | inputs | kept |\n|---|---:|---:|---:|---:|\n")
	for _, l := range r.Thin.Layers {
		fmt.Fprintf(b, "| %s | %d | %d | %d | %d |\n", l.Name, l.UnitsBefore, l.UnitsAfter, l.InputsBefore, l.InputsAfter)
	}
	fmt.Fprintf(b, "\nFLOPs per example (multiply-adds): %d → %d (%s fewer).\n", r.Thin.FLOPsBefore, r.Thin.FLOPsAfter, flopsRatio(r.Thin))
	if len(r.Speed) > 0 {
		b.WriteString("\n| batch | dense | thinned | speed-up |\n|---:|---:|---:|---:|\n")
		for _, s := range r.Speed {
			fmt.Fprintf(b, "| %d | %s | %s | %.2f× |\n", s.Batch, fmtSeconds(s.DenseSeconds), fmtSeconds(s.ThinSeconds), s.Speedup)
		}
	}
}

// widths is the layer widths after thinning, e.g. "784-219-100-10" or
// "1-5-12-250-10" (the input features or channels, then every layer's
// units).
func widths(t *models.ThinReport) string {
	if len(t.Layers) == 0 {
		return ""
	}
	parts := []string{fmt.Sprint(t.Layers[0].InputsAfter)}
	for _, l := range t.Layers {
		parts = append(parts, fmt.Sprint(l.UnitsAfter))
	}
	return strings.Join(parts, "-")
}

func flopsRatio(t *models.ThinReport) string {
	if t.FLOPsAfter == 0 {
		return "∞×"
	}
	return fmt.Sprintf("%.1f×", float64(t.FLOPsBefore)/float64(t.FLOPsAfter))
}

func fmtSeconds(s float64) string {
	switch {
	case s < 1e-3:
		return fmt.Sprintf("%.1f µs", s*1e6)
	case s < 1:
		return fmt.Sprintf("%.2f ms", s*1e3)
	}
	return fmt.Sprintf("%.2f s", s)
}
