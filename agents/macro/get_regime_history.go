package macro

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/storage"
)

func (a *Macro) getRegimeHistory() agents.Def {
	return agents.Read(agents.Meta{
		Name: "macro.get_regime_history",
		Description: "The stored regime_history rows (as macro.detect_regime wrote them), oldest first: those dated " +
			"from_date..to_date, or those of the last lookback_weeks up to to_date (default the run's as-of date; 52 weeks " +
			"when neither bound is given). No rows is an empty history with a note, not an error.",
		Reads: []string{"regime_history"},
	}, a.GetRegimeHistory)
}

// defaultRegimeHistoryWeeks is the range of an unbounded request.
const defaultRegimeHistoryWeeks = 52

// RegimeHistoryInput selects stored regimes.
type RegimeHistoryInput struct {
	FromDate      string `json:"from_date,omitempty" jsonschema:"format=date" doc:"First as-of date (inclusive). Not with lookback_weeks."`
	ToDate        string `json:"to_date,omitempty" jsonschema:"format=date" doc:"Last as-of date (inclusive); the run's as-of date when absent."`
	LookbackWeeks int    `json:"lookback_weeks,omitempty" jsonschema:"minimum=1,maximum=2600" doc:"Rows dated within this many weeks (7 days each) up to to_date, to_date included: from = to_date − 7 × weeks + 1 day."`
}

// Validate allows one lower bound and an ordered range.
func (in RegimeHistoryInput) Validate() error {
	if in.FromDate != "" && in.LookbackWeeks > 0 {
		return agents.FieldError("from_date", "give from_date or lookback_weeks, not both")
	}
	if in.FromDate != "" && in.ToDate != "" && in.FromDate > in.ToDate {
		return agents.FieldError("from_date", "from_date %s is after to_date %s", in.FromDate, in.ToDate)
	}
	return nil
}

// RegimeSnapshot is one stored regime.
type RegimeSnapshot struct {
	AsOfDate      string             `json:"asof_date"`
	Regime        string             `json:"regime"`
	Confidence    float64            `json:"confidence"`
	ZScores       map[string]float64 `json:"z_scores" doc:"Per indicator, as stored."`
	Probabilities map[string]float64 `json:"probabilities" doc:"Per regime, as stored."`
	Drivers       []RegimeDriver     `json:"drivers" doc:"As stored."`
	UpdatedAt     string             `json:"updated_at" doc:"When the row was last written (RFC 3339)."`
}

// RegimeHistoryOutput is the stored regimes of a range.
type RegimeHistoryOutput struct {
	FromDate   string            `json:"from_date"`
	ToDate     string            `json:"to_date"`
	Count      int               `json:"count"`
	History    []RegimeSnapshot  `json:"history" doc:"Oldest first."`
	Note       string            `json:"note,omitempty" doc:"Set when the history is empty."`
	Provenance agents.Provenance `json:"provenance"`
}

// GetRegimeHistory implements macro.get_regime_history.
func (a *Macro) GetRegimeHistory(ctx context.Context, c *agents.Call, in RegimeHistoryInput) (RegimeHistoryOutput, error) {
	from, to, err := historyRange(c, in.FromDate, in.ToDate, in.LookbackWeeks, defaultRegimeHistoryWeeks)
	if err != nil {
		return RegimeHistoryOutput{}, err
	}
	rows, err := storage.RegimeHistory(ctx, c.DB, from, to)
	if err != nil {
		return RegimeHistoryOutput{}, err
	}
	out := RegimeHistoryOutput{FromDate: ymd(from), ToDate: ymd(to), History: []RegimeSnapshot{},
		Provenance: c.ProvenanceAt("", to, "stored rows of regime_history, as macro.detect_regime wrote them",
			"dates inclusive; z-scores, probabilities and drivers as detected (see macro.detect_regime)")}
	for _, r := range rows {
		s, err := regimeSnapshot(r)
		if err != nil {
			return RegimeHistoryOutput{}, err
		}
		out.History = append(out.History, s)
	}
	out.Count = len(out.History)
	if out.Count == 0 {
		out.Note = "no regime is stored in the range; macro.detect_regime writes one per as-of date"
	}
	return out, nil
}

// historyRange resolves a from/to/lookback selection: to defaults to the
// run's as-of date, from to lookback weeks (or defaultWeeks) before it.
func historyRange(c *agents.Call, fromDate, toDate string, weeks, defaultWeeks int) (time.Time, time.Time, error) {
	var to *string
	if toDate != "" {
		to = &toDate
	}
	end, err := asOfArg(c, "to_date", to)
	if err != nil {
		return time.Time{}, time.Time{}, err
	}
	if fromDate != "" {
		from, err := time.Parse(time.DateOnly, fromDate)
		if err != nil {
			return time.Time{}, time.Time{}, agents.FieldError("from_date", "from_date %q is not YYYY-MM-DD", fromDate)
		}
		if from.After(end) {
			return time.Time{}, time.Time{}, agents.FieldError("from_date", "from_date %s is after %s", fromDate, ymd(end))
		}
		return from, end, nil
	}
	if weeks == 0 {
		weeks = defaultWeeks
	}
	return end.AddDate(0, 0, -7*weeks+1), end, nil
}

// regimeSnapshot decodes a stored row.
func regimeSnapshot(r storage.RegimeRow) (RegimeSnapshot, error) {
	s := RegimeSnapshot{AsOfDate: ymd(r.AsOfDate), Regime: r.Regime, Confidence: r.Confidence, ZScores: map[string]float64{},
		Probabilities: map[string]float64{}, Drivers: []RegimeDriver{}, UpdatedAt: r.UpdatedAt.UTC().Format(time.RFC3339)}
	for _, part := range []struct {
		raw  json.RawMessage
		into any
		what string
	}{{r.ZScores, &s.ZScores, "z-scores"}, {r.Probabilities, &s.Probabilities, "probabilities"}, {r.Drivers, &s.Drivers, "drivers"}} {
		if len(part.raw) == 0 {
			continue
		}
		if err := json.Unmarshal(part.raw, part.into); err != nil {
			return RegimeSnapshot{}, fmt.Errorf("decode the stored %s of the regime of %s: %w", part.what, s.AsOfDate, err)
		}
	}
	if s.Drivers == nil {
		s.Drivers = []RegimeDriver{}
	}
	return s, nil
}
