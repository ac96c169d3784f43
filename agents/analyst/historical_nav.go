package analyst

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/storage"
)

func (a *Analyst) historicalNAV() agents.Def {
	return agents.Read(agents.Meta{
		Name: "portfolio.historical_nav",
		Description: "The portfolio's stored daily values (total, cash, positions, net external flow, pack of each day) " +
			"over the last lookback_days trading days up to the run's as-of date, with the opening valuation.",
		Reads: []string{"portfolios", "portfolio_daily_values"},
		Codes: []string{agents.CodeNotFound, agents.CodeInsufficientData},
	}, a.HistoricalNAV)
}

// HistoricalNAVInput asks for a portfolio's daily values over a lookback.
type HistoricalNAVInput struct {
	PortfolioID  uuid.UUID `json:"portfolio_id" doc:"The portfolio."`
	LookbackDays int       `json:"lookback_days,omitempty" jsonschema:"minimum=1,maximum=2520,default=252" doc:"Trading days (valued days) to cover; lookback_days + 1 values are returned, the first being the close the window opens on."`
	RequireFull  bool      `json:"require_full,omitempty" doc:"Fail with insufficient_data when the history is shorter than the lookback, instead of returning the shorter history (never padded)."`
}

// NAVPoint is one valued day.
type NAVPoint struct {
	Date            string          `json:"date" doc:"The valued day, YYYY-MM-DD."`
	PricingPackID   string          `json:"pricing_pack_id" doc:"The pack the day was valued with."`
	TotalValue      decimal.Decimal `json:"total_value" doc:"Cash plus positions, in the base currency."`
	CashValue       decimal.Decimal `json:"cash_value"`
	PositionsValue  decimal.Decimal `json:"positions_value"`
	NetExternalFlow decimal.Decimal `json:"net_external_flow" doc:"External flows (deposits, withdrawals, transfers; base currency, positive in) dated after the previous valued day up to this one."`
}

// HistoricalNAVOutput is the daily values, oldest first.
type HistoricalNAVOutput struct {
	PortfolioID  uuid.UUID `json:"portfolio_id"`
	BaseCurrency string    `json:"base_currency"`
	LookbackDays int       `json:"lookback_days" doc:"The trading days asked for."`
	Days         int       `json:"days" doc:"The trading days covered: len(values) - 1 (0 when there are no values)."`
	Complete     bool      `json:"complete" doc:"Whether the history covers the whole lookback."`
	StartDate    *string   `json:"start_date" doc:"The first value's date; null without values."`
	EndDate      *string   `json:"end_date" doc:"The last value's date; null without values."`
	// Values are oldest first.
	Values     []NAVPoint        `json:"values" doc:"The daily values, oldest first."`
	Provenance agents.Provenance `json:"provenance"`
}

// HistoricalNAV implements portfolio.historical_nav. A shorter history is
// returned as it is (complete false) unless require_full is set; days
// without a fresh pack have no value and are never filled in.
func (a *Analyst) HistoricalNAV(ctx context.Context, c *agents.Call, in HistoricalNAVInput) (HistoricalNAVOutput, error) {
	out := HistoricalNAVOutput{PortfolioID: in.PortfolioID, LookbackDays: in.LookbackDays, Values: []NAVPoint{}}
	asOf, err := c.AsOfOrToday(a.deps.Now)
	if err != nil {
		return out, err
	}
	p, err := storage.GetPortfolio(ctx, c.DB, in.PortfolioID)
	if err != nil {
		return out, fmt.Errorf("historical nav: %w", err)
	}
	out.BaseCurrency = p.BaseCurrency
	vals, err := storage.LastDailyValues(ctx, c.DB, in.PortfolioID, asOf, in.LookbackDays+1)
	if err != nil {
		return out, err
	}
	out.Days = max(len(vals)-1, 0)
	out.Complete = out.Days >= in.LookbackDays
	if in.RequireFull && !out.Complete {
		return out, agents.InsufficientData(fmt.Sprintf("trading days of daily values of portfolio %s up to %s", in.PortfolioID, day(asOf)),
			out.Days, in.LookbackDays)
	}
	for _, v := range vals {
		out.Values = append(out.Values, NAVPoint{Date: day(v.Date), PricingPackID: v.PackID, TotalValue: v.Total,
			CashValue: v.Cash, PositionsValue: v.Positions, NetExternalFlow: v.NetExternalFlow})
	}
	if len(vals) > 0 {
		s, e := day(vals[0].Date), day(vals[len(vals)-1].Date)
		out.StartDate, out.EndDate = &s, &e
	}
	out.Provenance = c.ProvenanceAt("", asOf, "stored portfolio_daily_values rows (positions at each day's pack closes and FX, plus cash)",
		"values in the base currency; the last lookback_days+1 valued days (business days with a fresh pack) on or before the as-of date")
	return out, nil
}
