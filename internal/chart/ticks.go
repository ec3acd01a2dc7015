package chart

import (
	"math"
	"strconv"

	"gonum.org/v1/plot"
)

// LogTicks returns the ticks of a log axis over [min, max]: 1, 2 and 5
// times the powers of ten labelled (with suffix appended), unlabelled minor
// ticks at the other integer multiples. When fewer than two are labelled,
// min and max are labelled too (one decimal from 1 up, two significant
// digits below). It returns nil unless
// 0 < min < max.
func LogTicks(min, max float64, suffix string) []plot.Tick {
	if !(min > 0) || !(max > min) {
		return nil
	}
	var ticks []plot.Tick
	labelled := 0
	for e := math.Floor(math.Log10(min)); e <= math.Ceil(math.Log10(max)); e++ {
		base := math.Pow(10, e)
		for m := 1; m < 10; m++ {
			v := float64(m) * base
			if v < min || v > max {
				continue
			}
			t := plot.Tick{Value: v}
			if m == 1 || m == 2 || m == 5 {
				t.Label = strconv.FormatFloat(v, 'g', -1, 64) + suffix
				labelled++
			}
			ticks = append(ticks, t)
		}
	}
	if labelled < 2 {
		ticks = append(ticks, plot.Tick{Value: min, Label: endLabel(min) + suffix}, plot.Tick{Value: max, Label: endLabel(max) + suffix})
	}
	return ticks
}

// endLabel formats an end of a narrow log range: one decimal from 1 up,
// two significant digits below.
func endLabel(v float64) string {
	if v >= 1 {
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
	return strconv.FormatFloat(v, 'g', 2, 64)
}

// IntegerTicks returns labelled ticks at whole numbers in [min, max], every
// 1, 2 or 5 times a power of ten so that there are at most about ten. It
// returns nil unless min ≤ max.
func IntegerTicks(min, max float64) []plot.Tick {
	if !(min <= max) || math.IsInf(min, 0) || math.IsInf(max, 0) {
		return nil
	}
	step := 1.0
	for span := max - min; span/step > 10; {
		switch s := step / math.Pow(10, math.Floor(math.Log10(step))); s {
		case 1:
			step *= 2
		case 2:
			step *= 2.5
		default:
			step *= 2
		}
	}
	var ticks []plot.Tick
	for v := math.Ceil(min/step) * step; v <= max; v += step {
		ticks = append(ticks, plot.Tick{Value: v, Label: strconv.FormatFloat(v, 'f', 0, 64)})
	}
	return ticks
}

type logTicks struct{ suffix string }

func (t logTicks) Ticks(min, max float64) []plot.Tick { return LogTicks(min, max, t.suffix) }

type integerTicks struct{}

func (integerTicks) Ticks(min, max float64) []plot.Tick { return IntegerTicks(min, max) }

// nameTicks label the integers 0, 1, … in range with the names.
type nameTicks []string

func (n nameTicks) Ticks(min, max float64) []plot.Tick {
	var ticks []plot.Tick
	for i, name := range n {
		if v := float64(i); v >= min && v <= max {
			ticks = append(ticks, plot.Tick{Value: v, Label: name})
		}
	}
	return ticks
}
