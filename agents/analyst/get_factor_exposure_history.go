package analyst

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/storage"
)

func (a *Analyst) getFactorExposureHistory() agents.Def {
	return agents.Read(agents.Meta{
		Name: "risk.get_factor_exposure_history",
		Description: "The stored factor_exposures rows of a portfolio, oldest first: those dated from_date..to_date, those of " +
			"the last lookback_weeks, or the last last_n (default 20) up to to_date (default the run's as-of date). No rows " +
			"is an empty history with a note, not an error.",
		Reads: []string{"portfolios", "factor_exposures"},
		Codes: []string{agents.CodeNotFound},
	}, a.GetFactorExposureHistory)
}

// defaultExposureHistory is how many rows an unbounded request returns.
const defaultExposureHistory = 20

// FactorExposureHistoryInput selects stored exposures.
type FactorExposureHistoryInput struct {
	PortfolioID   uuid.UUID `json:"portfolio_id" doc:"The portfolio."`
	FromDate      string    `json:"from_date,omitempty" jsonschema:"format=date" doc:"First as-of date (inclusive). At most one of from_date, lookback_weeks and last_n."`
	ToDate        string    `json:"to_date,omitempty" jsonschema:"format=date" doc:"Last as-of date (inclusive); the run's as-of date when absent."`
	LookbackWeeks int       `json:"lookback_weeks,omitempty" jsonschema:"minimum=1,maximum=520" doc:"Rows dated within this many weeks (7 days each) before to_date, to_date included."`
	LastN         int       `json:"last_n,omitempty" jsonschema:"minimum=1,maximum=1000" doc:"The newest last_n rows up to to_date; 20 when no other bound is given."`
}

// Validate allows one lower bound and an ordered range.
func (in FactorExposureHistoryInput) Validate() error {
	bounds := 0
	for _, set := range []bool{in.FromDate != "", in.LookbackWeeks > 0, in.LastN > 0} {
		if set {
			bounds++
		}
	}
	if bounds > 1 {
		return agents.FieldError("from_date", "give at most one of from_date, lookback_weeks and last_n")
	}
	from, to, err := dateRange(in.FromDate, in.ToDate)
	if err != nil {
		return err
	}
	if !from.IsZero() && !to.IsZero() && from.After(to) {
		return agents.FieldError("from_date", "from_date %s is after to_date %s", in.FromDate, in.ToDate)
	}
	return nil
}

// ExposureSnapshot is one stored factor_exposures row.
type ExposureSnapshot struct {
	AsOfDate      string       `json:"asof_date"`
	PricingPackID string       `json:"pricing_pack_id"`
	LookbackDays  int          `json:"lookback_days"`
	Observations  int          `json:"observations"`
	Factors       []FactorBeta `json:"factors" doc:"In storage.Factors order; a factor the row lacks is left out."`
	Alpha         *float64     `json:"alpha" doc:"Annualised, as stored; null when the row has none."`
	RSquared      *float64     `json:"r_squared"`
	ResidualVol   *float64     `json:"residual_vol" doc:"Annualised."`
	UpdatedAt     string       `json:"updated_at" doc:"When the row was last written (RFC 3339)."`
}

// FactorExposureHistoryOutput is a portfolio's stored exposures.
type FactorExposureHistoryOutput struct {
	PortfolioID uuid.UUID          `json:"portfolio_id"`
	FromDate    string             `json:"from_date,omitempty"`
	ToDate      string             `json:"to_date"`
	Count       int                `json:"count"`
	History     []ExposureSnapshot `json:"history" doc:"Oldest first."`
	Note        string             `json:"note,omitempty" doc:"Set when the history is empty."`
	Provenance  agents.Provenance  `json:"provenance"`
}

// GetFactorExposureHistory implements risk.get_factor_exposure_history.
func (a *Analyst) GetFactorExposureHistory(ctx context.Context, c *agents.Call, in FactorExposureHistoryInput) (FactorExposureHistoryOutput, error) {
	from, to, err := dateRange(in.FromDate, in.ToDate)
	if err != nil {
		return FactorExposureHistoryOutput{}, err
	}
	if to.IsZero() {
		if to, err = c.RequireAsOf(); err != nil {
			return FactorExposureHistoryOutput{}, err
		}
	}
	f := storage.FactorExposureFilter{From: from, To: to, Last: in.LastN}
	switch {
	case in.LookbackWeeks > 0:
		f.From = to.AddDate(0, 0, -7*in.LookbackWeeks+1)
	case from.IsZero() && in.LastN == 0:
		f.Last = defaultExposureHistory
	}
	if _, err := storage.GetPortfolio(ctx, c.DB, in.PortfolioID); err != nil {
		return FactorExposureHistoryOutput{}, err
	}
	rows, err := storage.ListFactorExposures(ctx, c.DB, in.PortfolioID, f)
	if err != nil {
		return FactorExposureHistoryOutput{}, err
	}
	out := FactorExposureHistoryOutput{PortfolioID: in.PortfolioID, ToDate: to.Format(time.DateOnly), History: []ExposureSnapshot{},
		Provenance: c.Provenance("stored rows of factor_exposures, as risk.compute_factor_exposures wrote them",
			"betas per unit of each factor's daily value; α and residual volatility annualised; contribution per day and ×252")}
	if !f.From.IsZero() {
		out.FromDate = f.From.Format(time.DateOnly)
	}
	for _, r := range rows {
		s := ExposureSnapshot{AsOfDate: r.AsOfDate.Format(time.DateOnly), PricingPackID: r.PackID, LookbackDays: r.LookbackDays,
			Observations: r.Observations, Factors: []FactorBeta{}, Alpha: r.Alpha, RSquared: r.RSquared, ResidualVol: r.ResidualVol,
			UpdatedAt: r.UpdatedAt.UTC().Format(time.RFC3339)}
		for _, def := range storage.Factors {
			l, ok := r.Factors[def.Name]
			if !ok {
				continue
			}
			s.Factors = append(s.Factors, FactorBeta{Factor: def.Name, SeriesID: def.SeriesID, Beta: l.Beta, StdError: l.StdError,
				TStat: l.TStat, FactorMean: l.FactorMean, Contribution: l.Contribution, ContributionAnnual: l.ContributionAnnual})
		}
		out.History = append(out.History, s)
	}
	out.Count = len(out.History)
	if out.Count == 0 {
		out.Note = "no factor exposures are stored for the portfolio in the range; risk.compute_factor_exposures writes them"
	}
	return out, nil
}
