package main

import (
	"encoding/json"
	"fmt"
	"math"

	"github.com/urfave/cli/v2"

	"github.com/spred-go/spred/dataset"
	"github.com/spred-go/spred/lasso"
)

// lassoOutput is what `spred lasso` prints: the fit and the feature names
// in the order of the coefficients.
type lassoOutput struct {
	*lasso.Result
	Features []string `json:"features"`
}

func lassoCommand() *cli.Command {
	return &cli.Command{
		Name:  "lasso",
		Usage: "fit an L1-penalised linear or logistic regression on a CSV table, the spred way",
		Description: "Minimises L(b, b0) + λ‖b‖₁ by writing b = u⊙v and minimising the smooth\n" +
			"L(u⊙v, b0) + (λ/2)(‖u‖² + ‖v‖²) with L-BFGS, which has the same minimum (spred).\n" +
			"L is 1/(2n)‖y − Xb − b0‖² (gaussian) or the mean logistic loss with y in {0, 1}\n" +
			"(binomial); no standardisation, the intercept is not penalised.\n\n" +
			"The CSV (plain or gzip) has one header row; the label column holds y and every\n" +
			"other column is a numeric feature. Prints JSON: coef, intercept, nonzero,\n" +
			"objective, iterations, converged and features (the column names of coef).",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "csv", Usage: "input table, plain or gzip-compressed (required)"},
			&cli.StringFlag{Name: "label", Value: "y", Usage: "column holding the response"},
			&cli.StringFlag{Name: "family", Value: string(lasso.FamilyGaussian), Usage: "gaussian (least squares) or binomial (logistic, labels 0/1)"},
			&cli.Float64Flag{Name: "lambda", Usage: "L1 penalty λ ≥ 0 on the mean loss (required)"},
			&cli.BoolFlag{Name: "intercept", Value: true, Usage: "fit an unpenalised intercept (--intercept=false for none)"},
			&cli.Float64Flag{Name: "tol", Usage: fmt.Sprintf("stop when the relative objective change stays below this, in [0, 1) (0: %g)", lasso.DefaultTol)},
			&cli.IntFlag{Name: "max-iter", Usage: fmt.Sprintf("iteration limit (0: %d)", lasso.DefaultMaxIter)},
			&cli.Float64Flag{Name: "threshold", Usage: "set |u⊙v| below this to 0 (0: sqrt(tol)·max(1, max|b|); negative: none)"},
		},
		Action: func(c *cli.Context) error {
			path := c.String("csv")
			if path == "" {
				return usagef("lasso: --csv is required")
			}
			if !c.IsSet("lambda") {
				return usagef("lasso: --lambda is required")
			}
			fam := lasso.Family(c.String("family"))
			if fam != lasso.FamilyGaussian && fam != lasso.FamilyBinomial {
				return usagef("lasso: unknown --family %q (want gaussian or binomial)", string(fam))
			}
			cfg := lasso.Config{
				Family:    fam,
				Lambda:    c.Float64("lambda"),
				Intercept: c.Bool("intercept"),
				Tol:       c.Float64("tol"),
				MaxIter:   c.Int("max-iter"),
				Threshold: c.Float64("threshold"),
			}
			switch {
			case math.IsNaN(cfg.Lambda) || math.IsInf(cfg.Lambda, 0) || cfg.Lambda < 0:
				return usagef("lasso: --lambda must be a finite number ≥ 0, got %v", cfg.Lambda)
			case !(cfg.Tol >= 0 && cfg.Tol < 1):
				return usagef("lasso: --tol must be in [0, 1) (a relative change of the objective), got %v", cfg.Tol)
			case cfg.MaxIter < 0:
				return usagef("lasso: --max-iter must be ≥ 0, got %d", cfg.MaxIter)
			}
			if err := cfg.Validate(); err != nil {
				return usageError{err}
			}
			X, n, d, y, features, err := dataset.ReadTable(path, c.String("label"))
			if err != nil {
				return err
			}
			res, err := lasso.Solve(c.Context, X, n, d, y, cfg)
			if err != nil {
				return err
			}
			if !res.Converged {
				fmt.Fprintf(c.App.ErrWriter, "spred lasso: warning: not converged after %d iterations (raise --max-iter)\n", res.Iterations)
			}
			return json.NewEncoder(c.App.Writer).Encode(lassoOutput{res, features})
		},
	}
}
