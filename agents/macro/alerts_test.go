package macro_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/agents/macro"
)

// alertCounts reads the alerts and notifications rows with plain SQL.
func alertCounts(t *testing.T, b scenBook) (alerts, notes int) {
	t.Helper()
	if err := b.db.QueryRow(context.Background(), `SELECT (SELECT count(*) FROM alerts), (SELECT count(*) FROM notifications)`, nil,
		&alerts, &notes); err != nil {
		t.Fatal(err)
	}
	return alerts, notes
}

// TestAlertsOncePerDayAndReplay walks one alert through a week: the
// condition dar_fraction ≥ 0.05 on figures holding 0.08.
//
//	day 1 10:00  run a           notified (1 notification)
//	day 1 10:00  run a replayed  already_notified, the same notification
//	day 1 12:00  run b           already_notified_today
//	day 2 11:00  run c           notified (25 h after, past the 1-day cooldown)
//	day 2 11:00  run c replayed  already_notified
//
// and a second alert with a 3-day cooldown: notified on day 1, held back
// by the cooldown on day 2.
func TestAlertsOncePerDayAndReplay(t *testing.T) {
	t.Parallel()
	b := buildScenBook(t)
	h := b.harness(t)
	day1 := time.Date(2025, 7, 1, 10, 0, 0, 0, time.UTC)
	args := map[string]any{"alert_name": "DaR above 5 %", "portfolio_id": b.two,
		"condition": map[string]any{"metric": "dar_fraction", "operator": "gte", "threshold": 0.05},
		"figures":   map[string]any{"dar_fraction": 0.08, "confidence": 0.95}}
	call := func(run string, at time.Time, a map[string]any) macro.AlertThresholdOutput {
		t.Helper()
		h.Run.RunID, h.now = run, at
		var out macro.AlertThresholdOutput
		h.MustCall("alerts.create_if_threshold", a, &out)
		return out
	}
	first := call("run-a", day1, args)
	if first.Status != "notified" || !first.Crossed || first.Value != 0.08 || first.AlertID == nil || first.NotificationID == nil ||
		first.UserID != b.owner.String() {
		t.Fatalf("first: %+v; want notified", first)
	}
	if a, n := alertCounts(t, b); a != 1 || n != 1 {
		t.Fatalf("after the first: %d alerts, %d notifications; want 1 and 1", a, n)
	}
	var fired time.Time
	var user uuid.UUID
	if err := b.db.QueryRow(context.Background(), `SELECT a.last_fired_at, n.user_id FROM alerts a JOIN notifications n ON n.alert_id = a.id
		WHERE a.id = $1`, []any{*first.AlertID}, &fired, &user); err != nil || !fired.Equal(day1) || user != b.owner {
		t.Errorf("alert fired at %v for %s (%v); want %v for the run's user", fired, user, err, day1)
	}
	replay := call("run-a", day1, args)
	if replay.Status != "already_notified" || *replay.NotificationID != *first.NotificationID || *replay.AlertID != *first.AlertID {
		t.Errorf("replay: %+v; want already_notified with the first notification", replay)
	}
	later := call("run-b", day1.Add(2*time.Hour), args)
	if later.Status != "already_notified_today" || *later.NotificationID != *first.NotificationID {
		t.Errorf("same day, another run: %+v; want already_notified_today", later)
	}
	if a, n := alertCounts(t, b); a != 1 || n != 1 {
		t.Fatalf("after the replay and the second run: %d alerts, %d notifications; want 1 and 1", a, n)
	}
	day2 := call("run-c", day1.Add(25*time.Hour), args)
	if day2.Status != "notified" || *day2.NotificationID == *first.NotificationID || day2.LastFiredAt == nil || !day2.LastFiredAt.Equal(day1) {
		t.Errorf("next day: %+v; want a new notification", day2)
	}
	if again := call("run-c", day1.Add(26*time.Hour), args); again.Status != "already_notified" || *again.NotificationID != *day2.NotificationID {
		t.Errorf("next day replayed an hour later: %+v; want already_notified", again)
	}
	if a, n := alertCounts(t, b); a != 1 || n != 2 {
		t.Fatalf("after day 2: %d alerts, %d notifications; want 1 and 2", a, n)
	}

	slow := map[string]any{"alert_name": "DaR above 5 %, 3-day cooldown", "cooldown_seconds": 3 * 86400,
		"condition": args["condition"], "figures": args["figures"]}
	if out := call("run-d", day1, slow); out.Status != "notified" {
		t.Fatalf("slow alert day 1: %+v", out)
	}
	held := call("run-e", day1.Add(25*time.Hour), slow)
	if held.Status != "cooldown" || held.NotificationID != nil || held.CooldownUntil == nil || !held.CooldownUntil.Equal(day1.Add(72*time.Hour)) {
		t.Errorf("slow alert day 2: %+v; want cooldown until %v", held, day1.Add(72*time.Hour))
	}
	if a, n := alertCounts(t, b); a != 2 || n != 3 {
		t.Errorf("at the end: %d alerts, %d notifications; want 2 and 3", a, n)
	}
}

// TestAlertsConditionAndBadInput: a condition that does not hold writes
// nothing; paths reach nested figures; a run without a user, an unknown
// user or a missing figure is an error.
func TestAlertsConditionAndBadInput(t *testing.T) {
	t.Parallel()
	b := buildScenBook(t)
	h := b.harness(t)
	h.now = time.Date(2025, 7, 1, 10, 0, 0, 0, time.UTC)
	figs := map[string]any{"dar_amount": "1234.5", "indicators": []any{
		map[string]any{"indicator": "T10Y2Y", "end_z": -2.4}, map[string]any{"indicator": "UNRATE", "end_z": 0.3}}}
	var out macro.AlertThresholdOutput
	h.MustCall("alerts.create_if_threshold", map[string]any{"alert_name": "curve",
		"condition": map[string]any{"metric": "indicators[indicator=UNRATE].end_z", "operator": "abs_gte", "threshold": 2}, "figures": figs}, &out)
	if out.Status != "not_crossed" || out.Crossed || out.Value != 0.3 || out.AlertID != nil {
		t.Errorf("UNRATE |0.3| ≥ 2: %+v; want not_crossed", out)
	}
	if a, n := alertCounts(t, b); a != 0 || n != 0 {
		t.Fatalf("a condition that does not hold wrote %d alerts, %d notifications", a, n)
	}
	h.MustCall("alerts.create_if_threshold", map[string]any{"alert_name": "curve",
		"condition": map[string]any{"metric": "indicators[indicator=T10Y2Y].end_z", "operator": "abs_gte", "threshold": 2}, "figures": figs}, &out)
	if out.Status != "notified" || out.Value != -2.4 {
		t.Errorf("T10Y2Y |−2.4| ≥ 2: %+v; want notified", out)
	}
	h.MustCall("alerts.create_if_threshold", map[string]any{"alert_name": "loss",
		"condition": map[string]any{"metric": "dar_amount", "operator": "gt", "threshold": 1000}, "figures": figs}, &out)
	if out.Status != "notified" || out.Value != 1234.5 {
		t.Errorf("a decimal string 1234.5 > 1000: %+v; want notified", out)
	}

	crossing := map[string]any{"alert_name": "x", "condition": map[string]any{"metric": "dar_amount", "operator": "gt", "threshold": 1}, "figures": figs}
	noUser := *h.Harness
	noUser.Run.UserID = ""
	scenWantCode(t, "no user", noUser.Call("alerts.create_if_threshold", crossing, nil), agents.CodeInvalidInput, "ctx.user_id")
	noUser.Run.UserID = "not-a-uuid"
	scenWantCode(t, "user not a uuid", noUser.Call("alerts.create_if_threshold", crossing, nil), agents.CodeInvalidInput, "ctx.user_id")
	noUser.Run.UserID = "00000000-0000-4000-8000-000000000009"
	scenWantCode(t, "unknown user", noUser.Call("alerts.create_if_threshold", crossing, nil), agents.CodeNotFound, "", "00000000-0000-4000-8000-000000000009")
	for _, c := range []struct {
		what, field string
		args        map[string]any
		names       []string
	}{
		{"missing figure", "figures", map[string]any{"alert_name": "x", "condition": map[string]any{"metric": "dar_fraction", "operator": "gt", "threshold": 1},
			"figures": figs}, []string{"dar_fraction"}},
		{"no such element", "figures", map[string]any{"alert_name": "x", "condition": map[string]any{"metric": "indicators[indicator=BAA10Y].end_z",
			"operator": "gt", "threshold": 1}, "figures": figs}, []string{"BAA10Y"}},
		{"bad path", "condition.metric", map[string]any{"alert_name": "x", "condition": map[string]any{"metric": "a..b", "operator": "gt", "threshold": 1},
			"figures": figs}, nil},
		{"unknown operator", "args.condition.operator", map[string]any{"alert_name": "x", "condition": map[string]any{"metric": "a", "operator": "eq", "threshold": 1},
			"figures": figs}, nil},
		{"unknown channel", "channels[0]", map[string]any{"alert_name": "x", "channels": []string{"sms"}, "condition": map[string]any{"metric": "dar_amount",
			"operator": "gt", "threshold": 1}, "figures": figs}, []string{"sms"}},
		{"unknown portfolio", "", map[string]any{"alert_name": "x", "portfolio_id": "00000000-0000-4000-8000-000000000001",
			"condition": map[string]any{"metric": "dar_amount", "operator": "gt", "threshold": 1}, "figures": figs}, nil},
	} {
		code := agents.CodeInvalidInput
		if c.what == "unknown portfolio" {
			code = agents.CodeNotFound
		}
		scenWantCode(t, c.what, h.Call("alerts.create_if_threshold", c.args, nil), code, c.field, c.names...)
	}
	if a, n := alertCounts(t, b); a != 2 || n != 2 {
		t.Errorf("after the bad calls: %d alerts, %d notifications; want the 2 and 2 of the good ones", a, n)
	}
}

// TestAlertsSuggestPresets: the presets of a regime, a DaR and trend
// shifts, by the file's rules written out:
//
//	regime MID_EXPANSION, confidence 0.6, P(early contraction) 0.1,
//	P(deep contraction) 0.05 → probabilities ≥ 0.3 and ≥ 0.25,
//	confidence < 0.4;
//	DaR 0.06 → dar_fraction ≥ 0.075 (× 1.25) and the next round level
//	above it, 0.10;
//	2 shifts → shifts ≥ 3; T10Y2Y at z −1.4 → |z| ≥ 2; a significant
//	equity beta shift of −0.3 → |change| ≥ 0.3.
//
// A preset's condition then works as is in alerts.create_if_threshold.
func TestAlertsSuggestPresets(t *testing.T) {
	t.Parallel()
	b := buildScenBook(t)
	h := b.harness(t)
	h.now = time.Date(2025, 7, 1, 10, 0, 0, 0, time.UTC)
	trends := map[string]any{"from_date": "2025-06-03", "to_date": "2025-06-30", "shifts": 2,
		"indicators":  []any{map[string]any{"indicator": "T10Y2Y", "start_z": 0.2, "end_z": -1.4}, map[string]any{"indicator": "UNRATE", "start_z": 0.1, "end_z": 0.4}},
		"beta_shifts": []any{map[string]any{"factor": "equity", "change": -0.3, "significant": true}, map[string]any{"factor": "usd", "change": 0.01, "significant": false}}}
	var out macro.PresetsOutput
	h.MustCall("alerts.suggest_presets", map[string]any{
		"regime": map[string]any{"regime": "MID_EXPANSION", "confidence": 0.6, "asof_date": "2025-06-30",
			"probabilities": map[string]float64{"EARLY_CONTRACTION": 0.1, "DEEP_CONTRACTION": 0.05, "MID_EXPANSION": 0.6}},
		"dar":          map[string]any{"dar_fraction": 0.06, "confidence": 0.95, "horizon_days": 21, "method": "monte_carlo"},
		"trend_shifts": trends,
	}, &out)
	want := []struct {
		metric, op string
		threshold  float64
	}{
		{"probabilities.EARLY_CONTRACTION", "gte", 0.3}, {"probabilities.DEEP_CONTRACTION", "gte", 0.25}, {"confidence", "lt", 0.4},
		{"dar_fraction", "gte", 0.075}, {"dar_fraction", "gte", 0.10},
		{"shifts", "gte", 3}, {"indicators[indicator=T10Y2Y].end_z", "abs_gte", 2}, {"beta_shifts[factor=equity].change", "abs_gte", 0.3},
	}
	if len(out.Presets) != len(want) {
		t.Fatalf("%d presets: %+v; want %d", len(out.Presets), out.Presets, len(want))
	}
	for i, w := range want {
		p := out.Presets[i]
		if p.Condition.Metric != w.metric || p.Condition.Operator != w.op || !near(p.Threshold, w.threshold, 1e-12) ||
			p.Condition.Threshold != p.Threshold || p.Rationale == "" || p.Name == "" {
			t.Errorf("preset %d: %+v; want %s %s %v", i, p, w.metric, w.op, w.threshold)
		}
	}
	var fired macro.AlertThresholdOutput
	h.MustCall("alerts.create_if_threshold", map[string]any{"alert_name": out.Presets[6].Name, "condition": out.Presets[6].Condition,
		"figures": map[string]any{"indicators": []any{map[string]any{"indicator": "T10Y2Y", "end_z": -2.1}}}}, &fired)
	if fired.Status != "notified" {
		t.Errorf("the T10Y2Y preset on z −2.1: %+v; want notified", fired)
	}
	var none macro.PresetsOutput
	h.MustCall("alerts.suggest_presets", map[string]any{}, &none)
	if len(none.Presets) != 0 || len(none.Notes) != 3 {
		t.Errorf("no inputs: %+v; want no presets and three notes", none)
	}
}
