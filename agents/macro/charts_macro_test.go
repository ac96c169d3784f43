package macro_test

import (
	"testing"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/agents/macro"
)

// TestCycleChartsMacroOverview builds the charts from hand-made step
// outputs: every figure passes through unchanged.
func TestCycleChartsMacroOverview(t *testing.T) {
	t.Parallel()
	h := newMacroHarness(t, nil)
	var out macro.MacroChartsOutput
	h.MustCall("charts.macro_overview", map[string]any{
		"indicators": map[string]any{"asof_date": "2026-06-30", "indicators": []map[string]any{
			{"indicator": "T10Y2Y", "date": "2026-06-30", "value": 0.4, "z_score": -1.25, "window": 252, "frequency": "daily"},
			{"indicator": "CPIAUCSL:yoy", "date": "2026-06-01", "value": 0.031, "z_score": 0.5}}},
		"regime": map[string]any{"asof_date": "2026-06-30", "regime": "LATE_EXPANSION", "confidence": 0.6,
			"scores":  []map[string]any{{"regime": "LATE_EXPANSION", "score": 2, "probability": 0.6}, {"regime": "MID_EXPANSION", "score": 1, "probability": 0.4}},
			"drivers": []map[string]any{{"indicator": "T10Y2Y", "z_score": -1.25, "contribution": 1.25}}},
		"cycles": map[string]any{"tilt": 1, "posture": "balanced", "cycles": []map[string]any{
			{"cycle": "STDC", "name": "short-term debt cycle", "asof_date": "2026-06-30", "phase": "LATE_EXPANSION", "label": "late expansion",
				"phase_index": 3, "phase_count": 5, "score": 1.5, "score_name": "expansion_strength", "tilt": 0}}},
	}, &out)
	ids := []string{"indicator_z_scores", "indicators", "regime_probabilities", "regime_drivers", "cycle_phases"}
	if len(out.Charts) != len(ids) {
		t.Fatalf("charts %+v", out.Charts)
	}
	for i, c := range out.Charts {
		if c.ID != ids[i] {
			t.Errorf("chart %d is %s; want %s", i, c.ID, ids[i])
		}
	}
	if p := out.Charts[0].Series[0].Points; len(p) != 2 || p[0].X != "T10Y2Y" || p[0].Y != -1.25 || p[1].Y != 0.5 {
		t.Errorf("z-score points %+v", p)
	}
	if r := out.Charts[1].Rows; len(r) != 2 || *r[0]["z_score"] != "-1.25" || *r[0]["window"] != "252" || r[1]["window"] != nil {
		t.Errorf("indicator rows %+v", r)
	}
	if p := out.Charts[2].Series[0].Points; len(p) != 2 || p[0].Y != 0.6 || p[1].X != "MID_EXPANSION" {
		t.Errorf("probability points %+v", p)
	}
	if p := out.Charts[3].Series[0].Points; len(p) != 1 || p[0].Y != 1.25 {
		t.Errorf("driver points %+v", p)
	}
	if r := out.Charts[4].Rows; len(r) != 1 || *r[0]["phase"] != "LATE_EXPANSION" || *r[0]["position"] != "3 of 5" || *r[0]["score"] != "1.5" {
		t.Errorf("cycle rows %+v", r)
	}
	err := h.Call("charts.macro_overview", map[string]any{}, nil)
	wantCode(t, err, agents.CodeInvalidInput)
}
