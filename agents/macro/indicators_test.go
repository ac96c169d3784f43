package macro_test

import (
	"math"
	"testing"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/agents/macro"
	"github.com/dawsos/dawsos/storage/pgtest"
)

// TestIndicatorsZScoreByHand checks z-scores against closed forms.
//
// Daily series D: 30 observations of 1000 followed by 1, 2, ..., 20 on the
// last 20 business days up to 2026-06-30; with a window of 20 only 1..20
// count: mean 10.5, sample variance n(n+1)/12 = 35, so the newest value
// (20) has z = 9.5 / √35.
//
// Monthly CPI-like series M: twelve months at 100, then 100 × (1 + k/100)
// for k = 1..12 (2025-07-01 .. 2026-06-01), so its y/y values are 0.01 ..
// 0.12; with a monthly window of 12: mean 0.065, sample variance 13 ×
// 0.01², z = 0.055 / (0.01 √13) = 5.5 / √13.
func TestIndicatorsZScoreByHand(t *testing.T) {
	t.Parallel()
	db := pgtest.NewDB(t)
	asOf := day("2026-06-30")
	var rows []obs
	days := businessDays(asOf, 50)
	for i, d := range days {
		v := 1000.0
		if i >= 30 {
			v = float64(i - 29)
		}
		rows = append(rows, obs{"TEST_D", d, v})
	}
	months := monthStarts(asOf, 24)
	for i, m := range months {
		v := 100.0
		if i >= 12 {
			v = 100 * (1 + float64(i-11)/100)
		}
		rows = append(rows, obs{"TEST_M", m, v})
	}
	insertObs(t, db, rows)
	h := newMacroHarness(t, db).At("2026-06-30")

	var out macro.IndicatorsOutput
	h.MustCall("macro.get_indicators", map[string]any{"indicators": []string{"TEST_D", "TEST_M:yoy", "TEST_M"}, "window": 20, "monthly_window": 12}, &out)
	if len(out.Indicators) != 3 {
		t.Fatalf("indicators %+v", out.Indicators)
	}
	d, m, lvl := out.Indicators[0], out.Indicators[1], out.Indicators[2]
	if want := 9.5 / math.Sqrt(35); !near(d.ZScore, want, 1e-12) || !near(d.Mean, 10.5, 1e-12) || !near(d.StdDev, math.Sqrt(35), 1e-12) {
		t.Errorf("daily z %v mean %v sd %v; by hand z 9.5/√35 = %v, mean 10.5, sd √35", d.ZScore, d.Mean, d.StdDev, want)
	}
	if d.Frequency != "daily" || d.Window != 20 || d.Date != "2026-06-30" || d.WindowStart != days[30].Format("2006-01-02") ||
		d.Observations != 50 || d.Level != 20 || d.AgeDays != 0 {
		t.Errorf("daily indicator %+v; want daily, window 20 from %s, 50 observations, level 20", d, days[30].Format("2006-01-02"))
	}
	if want := 5.5 / math.Sqrt(13); !near(m.ZScore, want, 1e-9) || !near(m.Value, 0.12, 1e-12) || !near(m.Mean, 0.065, 1e-12) {
		t.Errorf("y/y z %v value %v mean %v; by hand z 5.5/√13 = %v, value 0.12, mean 0.065", m.ZScore, m.Value, m.Mean, want)
	}
	if m.Transform != "yoy" || m.Frequency != "monthly" || m.Window != 12 || m.Values != 12 || m.Observations != 24 ||
		m.WindowStart != "2025-07-01" || m.Date != "2026-06-01" || !near(m.Level, 112, 1e-9) || m.AgeDays != 29 {
		t.Errorf("y/y indicator %+v; want monthly yoy, 12 values from 2025-07-01 to 2026-06-01, level 112, 29 days old", m)
	}
	// The level over its last 12 months: 101..112, z = 5.5/√13 as well.
	if want := 5.5 / math.Sqrt(13); !near(lvl.ZScore, want, 1e-9) || lvl.Transform != "level" {
		t.Errorf("level z %v (%s); by hand %v", lvl.ZScore, lvl.Transform, want)
	}
	if out.Windows.Daily != 20 || out.Windows.Monthly != 12 || out.Provenance.Convention == "" || out.Provenance.AsOfDate != "2026-06-30" {
		t.Errorf("windows %+v provenance %+v", out.Windows, out.Provenance)
	}
	// An earlier as-of date sees only the observations up to it.
	h.MustCall("macro.get_indicators", map[string]any{"indicators": []string{"TEST_D"}, "window": 20, "asof_date": days[48].Format("2006-01-02")}, &out)
	if got := out.Indicators[0]; got.Level != 19 || got.Observations != 49 {
		t.Errorf("as of %s: %+v; want the value 19 of 49 observations", days[48].Format("2006-01-02"), got)
	}
}

// TestIndicatorsInsufficientData: a window longer than the series, a
// series that does not exist and a y/y without a year of history are one
// insufficient_data error naming each; bad names are invalid input.
func TestIndicatorsInsufficientData(t *testing.T) {
	t.Parallel()
	db := pgtest.NewDB(t)
	asOf := day("2026-06-30")
	var rows []obs
	for i, d := range businessDays(asOf, 19) {
		rows = append(rows, obs{"SHORT_D", d, float64(i)})
	}
	for i, m := range monthStarts(asOf, 12) {
		rows = append(rows, obs{"SHORT_M", m, 100 + float64(i)})
	}
	insertObs(t, db, rows)
	h := newMacroHarness(t, db).At("2026-06-30")
	var out macro.IndicatorsOutput
	err := h.Call("macro.get_indicators", map[string]any{"indicators": []string{"SHORT_D", "NOPE", "SHORT_M:yoy"}, "window": 20}, &out)
	wantCode(t, err, agents.CodeInsufficientData, "SHORT_D has 19 observations, need at least 20", "series NOPE has 0 observations", "SHORT_M:yoy has 0 y/y values")
	// The default list on an empty database names the regime inputs.
	err = h.Call("macro.get_indicators", map[string]any{}, &out)
	wantCode(t, err, agents.CodeInsufficientData, "T10Y2Y", "UNRATE", "CPIAUCSL", "BAA10Y")
	for _, bad := range [][]string{{"T10Y2Y;DROP"}, {"CPI:mom"}, {"A", "A"}} {
		err = h.Call("macro.get_indicators", map[string]any{"indicators": bad}, &out)
		wantCode(t, err, agents.CodeInvalidInput)
	}
	err = h.Call("macro.get_indicators", map[string]any{"window": 5}, &out)
	wantCode(t, err, agents.CodeInvalidInput)
	// A constant window has no z-score.
	var flat []obs
	for _, d := range businessDays(asOf, 25) {
		flat = append(flat, obs{"FLAT", d, 1.5})
	}
	insertObs(t, db, flat)
	err = h.Call("macro.get_indicators", map[string]any{"indicators": []string{"FLAT"}, "window": 20}, &out)
	wantCode(t, err, agents.CodeInsufficientData, "FLAT", "all equal")
}
