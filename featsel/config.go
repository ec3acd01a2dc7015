package featsel

import (
	"math"

	"github.com/pkg/errors"
)

// Method names a selection method.
type Method string

// The selection methods.
const (
	// MethodSpred is the input gate: x → (s⊙x) → head, decay on s and the
	// first layer (a group lasso over input features), thresholding of s.
	MethodSpred Method = "spred"
	// MethodL1Logistic is L1-penalised logistic regression solved by
	// lasso.Solve (binomial family, two classes only).
	MethodL1Logistic Method = "l1-logistic"
)

// Head names the model behind the gate.
type Head string

// The heads.
const (
	// HeadLinear is a linear softmax classifier: logits = (s⊙x)·W + b.
	HeadLinear Head = "linear"
	// HeadMLP is one hidden ReLU layer: logits = relu((s⊙x)·W1 + b1)·W2 + b2,
	// every row of W2 used at unit length.
	HeadMLP Head = "mlp"
)

// Defaults for the zero values of Config's fields.
const (
	DefaultHidden     = 16
	DefaultThreshold  = 1e-3
	DefaultRefitDecay = 1e-2
	DefaultMaxIter    = 3000 // linear head and l1-logistic refits
	DefaultMaxIterMLP = 1000
	DefaultSearchIter = 30
)

// Config configures one selection (Select).
type Config struct {
	// Method is the selection method; "" means MethodSpred.
	Method Method `json:"method"`
	// Head is the model behind the gate for MethodSpred; "" means
	// HeadLinear. MethodL1Logistic is linear by nature and ignores it.
	Head Head `json:"head"`
	// Hidden is the hidden width of HeadMLP; 0 means DefaultHidden (16).
	Hidden int `json:"hidden,omitempty"`
	// Lambda is the penalty λ > 0 on the mean cross-entropy, used when
	// Features is 0: the spred objective is L + (λ/2)(‖s‖² + ‖W1‖²) (the
	// MLP's output layer has unit rows and no decay), whose minimum over
	// the split equals that of L + λ·Σ_j ‖s_j·W1_j‖, a group lasso over the
	// rows of the effective first layer. For
	// MethodL1Logistic it is the L1 coefficient of lasso.Solve.
	Lambda float64 `json:"lambda,omitempty"`
	// Features, if > 0, searches λ by bisection on the log scale for the
	// smallest λ at which at most Features features survive.
	Features int `json:"features,omitempty"`
	// Threshold: a feature whose effective row ‖s_j·W1_j‖ is below
	// Threshold times the largest one is dropped (s_j and W1_j set to
	// exactly 0). 0 means DefaultThreshold (1e-3).
	Threshold float64 `json:"threshold,omitempty"`
	// RefitDecay is the weight decay (ridge, on the mean loss) of the
	// refit on the selected features; 0 means DefaultRefitDecay (1e-2),
	// negative means none.
	RefitDecay float64 `json:"refit_decay,omitempty"`
	// MaxIter caps the L-BFGS iterations of one fit; 0 means
	// DefaultMaxIter (3000) for the linear head, DefaultMaxIterMLP (1000)
	// for the MLP, whose non-convex fits at small λ creep on for long.
	MaxIter int `json:"max_iter,omitempty"`
	// SearchIter caps the fits of the λ search for Features; 0 means
	// DefaultSearchIter (30).
	SearchIter int `json:"search_iter,omitempty"`
	// Seed draws the MLP's initial output layer.
	Seed int64 `json:"seed"`
}

func (c Config) method() Method {
	if c.Method == "" {
		return MethodSpred
	}
	return c.Method
}

func (c Config) head() Head {
	if c.Head == "" {
		return HeadLinear
	}
	return c.Head
}

func (c Config) hidden() int {
	if c.head() == HeadLinear {
		return 0
	}
	if c.Hidden == 0 {
		return DefaultHidden
	}
	return c.Hidden
}

func (c Config) threshold() float64 {
	if c.Threshold == 0 {
		return DefaultThreshold
	}
	return c.Threshold
}

func (c Config) refitDecay() float64 {
	switch {
	case c.RefitDecay == 0:
		return DefaultRefitDecay
	case c.RefitDecay < 0:
		return 0
	}
	return c.RefitDecay
}

func (c Config) maxIter() int {
	if c.MaxIter == 0 {
		if c.hidden() > 0 {
			return DefaultMaxIterMLP
		}
		return DefaultMaxIter
	}
	return c.MaxIter
}

func (c Config) searchIter() int {
	if c.SearchIter == 0 {
		return DefaultSearchIter
	}
	return c.SearchIter
}

// Validate checks the configuration on its own, without data.
func (c Config) Validate() error {
	switch c.method() {
	case MethodSpred, MethodL1Logistic:
	default:
		return errors.Errorf("featsel: unknown method %q (want %q or %q)", string(c.Method), MethodSpred, MethodL1Logistic)
	}
	switch c.head() {
	case HeadLinear, HeadMLP:
	default:
		return errors.Errorf("featsel: unknown head %q (want %q or %q)", string(c.Head), HeadLinear, HeadMLP)
	}
	if c.Method == MethodL1Logistic && c.Head == HeadMLP {
		return errors.New("featsel: l1-logistic is a linear model; it takes no mlp head")
	}
	if c.Hidden < 0 || c.Hidden > 4096 {
		return errors.Errorf("featsel: hidden width must be in [0, 4096], got %d", c.Hidden)
	}
	if c.Features < 0 {
		return errors.Errorf("featsel: features must be ≥ 0, got %d", c.Features)
	}
	if c.Features == 0 && !(c.Lambda > 0 && !math.IsInf(c.Lambda, 0)) {
		return errors.Errorf("featsel: lambda must be a finite number > 0, got %v", c.Lambda)
	}
	if !(c.Threshold >= 0 && c.Threshold < 1) {
		return errors.Errorf("featsel: threshold must be in [0, 1), got %v", c.Threshold)
	}
	if math.IsNaN(c.RefitDecay) || math.IsInf(c.RefitDecay, 0) {
		return errors.Errorf("featsel: refit decay must be finite, got %v", c.RefitDecay)
	}
	if c.MaxIter < 0 || c.SearchIter < 0 {
		return errors.Errorf("featsel: iteration limits must be ≥ 0, got %d and %d", c.MaxIter, c.SearchIter)
	}
	return nil
}
