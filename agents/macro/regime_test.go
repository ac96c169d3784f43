package macro_test

import (
	"context"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/agents/macro"
	"github.com/dawsos/dawsos/storage/pgtest"
)

// The scoring rule as documented in detect_regime.go, written out again
// so that the test does not read the capability's own table: weights on
// the z-scores of T10Y2Y, UNRATE, CPIAUCSL y/y and BAA10Y.
var handWeights = []struct {
	regime string
	w      [4]float64
}{
	{"EARLY_EXPANSION", [4]float64{1.0, 0.5, -1.0, -0.5}},
	{"MID_EXPANSION", [4]float64{0.5, -1.0, -0.5, -1.0}},
	{"LATE_EXPANSION", [4]float64{-1.0, -0.5, 1.0, -0.5}},
	{"EARLY_CONTRACTION", [4]float64{-1.0, 0.5, 0.5, 1.0}},
	{"DEEP_CONTRACTION", [4]float64{0.5, 1.0, -0.5, 1.0}},
}

var regimeSeries = [4]string{"T10Y2Y", "UNRATE", "CPIAUCSL:yoy", "BAA10Y"}

// exactWindow returns n values whose sample mean is 0 and sample
// standard deviation (ddof 1) is 1, the last of them z, so that the z-score
// of the last value over the n is exactly z: the other n−1 values are
// −z/(n−1) ± a, with a chosen so the squares add up to n − 1.
func exactWindow(n int, z float64) []float64 {
	m := n - 1
	e2 := float64(m) - z*z*float64(n)/float64(m) // Σ e² needed
	pairs := m / 2 * 2
	a := math.Sqrt(e2 / float64(pairs))
	out := make([]float64, n)
	for i := range m {
		out[i] = -z / float64(m)
		if i < pairs {
			if i%2 == 0 {
				out[i] += a
			} else {
				out[i] -= a
			}
		}
	}
	out[m] = z
	return out
}

// regimeRows builds the four regime inputs so that their z-scores on asOf
// are exactly z: T10Y2Y and BAA10Y on the last 252 business days, UNRATE
// on the last 36 months, CPIAUCSL over 48 months whose last 36 y/y values
// are the window (levels: 100 for the first 12 months, then each the
// level a year earlier × (1 + y/y)).
func regimeRows(asOf time.Time, z [4]float64) []obs {
	var rows []obs
	days := businessDays(asOf, 252)
	for i, v := range exactWindow(252, z[0]) {
		rows = append(rows, obs{"T10Y2Y", days[i], 0.5 + 0.4*v})
	}
	for i, v := range exactWindow(252, z[3]) {
		rows = append(rows, obs{"BAA10Y", days[i], 2.0 + 0.3*v})
	}
	months := monthStarts(asOf, 36)
	for i, v := range exactWindow(36, z[1]) {
		rows = append(rows, obs{"UNRATE", months[i], 5.0 + 0.6*v})
	}
	cpiMonths := monthStarts(asOf, 48)
	levels := make([]float64, 48)
	for i := range 12 {
		levels[i] = 100
	}
	for i, v := range exactWindow(36, z[2]) {
		levels[12+i] = levels[i] * (1 + 0.03 + 0.01*v)
	}
	for i, l := range levels {
		rows = append(rows, obs{"CPIAUCSL", cpiMonths[i], l})
	}
	return rows
}

// handRegime scores z by the table above: the scores, softmax
// probabilities at temperature 1 and the top regime.
func handRegime(z [4]float64) (scores, probs [5]float64, top int) {
	sum := 0.0
	for i, r := range handWeights {
		for k := range 4 {
			scores[i] += r.w[k] * z[k]
		}
		if scores[i] > scores[top] {
			top = i
		}
	}
	for i := range scores {
		probs[i] = math.Exp(scores[i])
		sum += probs[i]
	}
	for i := range probs {
		probs[i] /= sum
	}
	return scores, probs, top
}

func scale(w [4]float64, k float64) [4]float64 {
	for i := range w {
		w[i] *= k
	}
	return w
}

func add(a, b [4]float64) [4]float64 {
	for i := range a {
		a[i] += b[i]
	}
	return a
}

// regimeCase is one constructed case: z-scores and the regime they must
// give (one of two at a boundary).
type regimeCase struct {
	name  string
	z     [4]float64
	want  string
	other string // at a boundary: the regime tied with want
}

// regimeCases: each regime's own profile × 1.5 (the regime by
// construction: every profile has Σw² = 2.5 and no other profile's dot
// product with it exceeds 1.0), the midpoints of neighbouring profiles
// (w_A + w_B: scores tie exactly since all profiles are equally long), and
// a step of 0.1 × (w_B − w_A) to either side of each midpoint, which
// tips the scores by ±0.1 × (2.5 − w_A·w_B) > 0.
func regimeCases() []regimeCase {
	var cs []regimeCase
	for _, r := range handWeights {
		cs = append(cs, regimeCase{name: r.regime, z: scale(r.w, 1.5), want: r.regime})
	}
	for i := range handWeights {
		a, b := handWeights[i], handWeights[(i+1)%len(handWeights)]
		mid := add(a.w, b.w)
		diff := add(b.w, scale(a.w, -1))
		cs = append(cs,
			regimeCase{name: a.regime + "|" + b.regime, z: mid, want: a.regime, other: b.regime},
			regimeCase{name: a.regime + "<" + b.regime, z: add(mid, scale(diff, -0.1)), want: a.regime},
			regimeCase{name: a.regime + ">" + b.regime, z: add(mid, scale(diff, 0.1)), want: b.regime})
	}
	return cs
}

// TestRegimeConstructed detects the regime of constructed series, one
// case per regime and three per boundary between neighbours, each case
// on its own dates five years apart in one database (every window holds
// only its case's rows), and checks z-scores, scores, probabilities,
// confidence and drivers by hand, the stored row, and that a replay
// changes nothing.
func TestRegimeConstructed(t *testing.T) {
	t.Parallel()
	db := pgtest.NewDB(t)
	cases := regimeCases()
	var rows []obs
	asOfs := make([]time.Time, len(cases))
	for i, c := range cases {
		asOfs[i] = time.Date(1930+5*i, 6, 30, 0, 0, 0, 0, time.UTC)
		rows = append(rows, regimeRows(asOfs[i], c.z)...)
	}
	insertObs(t, db, rows)
	h := newMacroHarness(t, db).At("2030-01-01")
	ctx := context.Background()
	for i, c := range cases {
		asOf := asOfs[i].Format(time.DateOnly)
		var out macro.RegimeOutput
		h.MustCall("macro.detect_regime", map[string]any{"asof_date": asOf}, &out)
		scores, probs, _ := handRegime(c.z)
		if c.other == "" && out.Regime != c.want {
			t.Errorf("%s: regime %s; constructed as %s (scores %v)", c.name, out.Regime, c.want, scores)
		}
		if c.other != "" {
			if out.Regime != c.want && out.Regime != c.other {
				t.Errorf("%s: regime %s; want %s or %s (a tie)", c.name, out.Regime, c.want, c.other)
			}
			if !near(out.Probabilities[c.want], out.Probabilities[c.other], 1e-9) {
				t.Errorf("%s: probabilities %v and %v; a tie wants them equal", c.name, out.Probabilities[c.want], out.Probabilities[c.other])
			}
		}
		if out.AsOfDate != asOf || len(out.Indicators) != 4 {
			t.Fatalf("%s: as of %s with %d indicators", c.name, out.AsOfDate, len(out.Indicators))
		}
		for k, ind := range out.Indicators {
			if ind.Indicator != regimeSeries[k] || !near(ind.ZScore, c.z[k], 1e-9) {
				t.Errorf("%s: indicator %d %s z %v; constructed %s z %v", c.name, k, ind.Indicator, ind.ZScore, regimeSeries[k], c.z[k])
			}
		}
		if ind := out.Indicators[2]; ind.Window != 36 || ind.Frequency != "monthly" || ind.Transform != "yoy" {
			t.Errorf("%s: CPI y/y indicator %+v; want a monthly y/y over 36 values", c.name, ind)
		}
		if ind := out.Indicators[0]; ind.Window != 252 || ind.Frequency != "daily" {
			t.Errorf("%s: curve indicator %+v; want daily over 252", c.name, ind)
		}
		sum, top := 0.0, 0.0
		for j, s := range out.Scores {
			if s.Regime != handWeights[j].regime || !near(s.Score, scores[j], 1e-8) || !near(s.Probability, probs[j], 1e-9) {
				t.Errorf("%s: score %d %s %v p %v; by hand %s %v p %v", c.name, j, s.Regime, s.Score, s.Probability, handWeights[j].regime, scores[j], probs[j])
			}
			sum += s.Probability
			top = max(top, s.Probability)
		}
		if !near(sum, 1, 1e-12) || !near(out.Confidence, top, 1e-12) || out.Probabilities[out.Regime] != out.Confidence {
			t.Errorf("%s: probabilities add to %v, confidence %v, top %v", c.name, sum, out.Confidence, top)
		}
		// Drivers: the regime's contributions, largest first, weight × z.
		if len(out.Drivers) != 4 {
			t.Fatalf("%s: drivers %+v", c.name, out.Drivers)
		}
		dsum := 0.0
		for j, d := range out.Drivers {
			if d.Regime != out.Regime || !near(d.Contribution, d.Weight*d.ZScore, 1e-12) ||
				(j > 0 && math.Abs(d.Contribution) > math.Abs(out.Drivers[j-1].Contribution)+1e-12) {
				t.Errorf("%s: driver %d %+v", c.name, j, d)
			}
			dsum += d.Contribution
		}
		if !near(dsum, out.Scores[regimeIndex(out.Regime)].Score, 1e-9) {
			t.Errorf("%s: drivers add to %v; the regime's score is %v", c.name, dsum, out.Scores[regimeIndex(out.Regime)].Score)
		}
		// The stored row, read with plain SQL.
		var regime string
		var conf, zCurve, pTop float64
		if err := db.QueryRow(ctx, `SELECT regime, confidence, (z_scores->>'T10Y2Y')::float8, (probabilities->>regime)::float8
			FROM regime_history WHERE as_of_date = $1`, []any{asOfs[i]}, &regime, &conf, &zCurve, &pTop); err != nil {
			t.Fatalf("%s: read the stored regime: %v", c.name, err)
		}
		if regime != out.Regime || conf != out.Confidence || !near(zCurve, c.z[0], 1e-9) || pTop != out.Confidence {
			t.Errorf("%s: stored %s %v z %v p %v; output %s %v", c.name, regime, conf, zCurve, pTop, out.Regime, out.Confidence)
		}
	}
	// A replay of every detection changes nothing, updated_at included.
	var before []time.Time
	readUpdated := func() []time.Time {
		var ts []time.Time
		if err := db.Query(ctx, func(r pgx.Rows) error {
			for r.Next() {
				var u time.Time
				if err := r.Scan(&u); err != nil {
					return err
				}
				ts = append(ts, u)
			}
			return r.Err()
		}, `SELECT updated_at FROM regime_history ORDER BY as_of_date`); err != nil {
			t.Fatal(err)
		}
		return ts
	}
	before = readUpdated()
	for _, a := range asOfs {
		h.MustCall("macro.detect_regime", map[string]any{"asof_date": a.Format(time.DateOnly)}, nil)
	}
	after := readUpdated()
	if len(before) != len(cases) || fmt.Sprint(before) != fmt.Sprint(after) {
		t.Errorf("replayed detections rewrote rows: %d rows, updated_at %v then %v", len(before), before, after)
	}
}

func regimeIndex(r string) int {
	for i, w := range handWeights {
		if w.regime == r {
			return i
		}
	}
	return -1
}

// TestRegimeMissingSeries: without BAA10Y, and with too short a UNRATE,
// detection is insufficient_data naming them, and nothing is stored; the
// run context's as-of date is used when no date is given.
func TestRegimeMissingSeries(t *testing.T) {
	t.Parallel()
	db := pgtest.NewDB(t)
	asOf := day("2026-06-30")
	var rows []obs
	for _, r := range regimeRows(asOf, [4]float64{1, 1, 1, 1}) {
		if r.series == "BAA10Y" || (r.series == "UNRATE" && r.date.Before(day("2024-01-01"))) {
			continue
		}
		rows = append(rows, r)
	}
	insertObs(t, db, rows)
	h := newMacroHarness(t, db).At("2026-06-30")
	err := h.Call("macro.detect_regime", map[string]any{}, nil)
	wantCode(t, err, agents.CodeInsufficientData, "series BAA10Y has 0 observations", "UNRATE has 30 observations, need at least 36 (monthly window)")
	var n int
	if err := db.QueryRow(context.Background(), `SELECT count(*) FROM regime_history`, nil, &n); err != nil || n != 0 {
		t.Errorf("regime_history holds %d rows (%v) after a failed detection; want 0", n, err)
	}
	err = newMacroHarness(t, db).Call("macro.detect_regime", map[string]any{}, nil)
	wantCode(t, err, agents.CodeInvalidInput, "as-of")
}
