package analyst

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/quant"
	"github.com/dawsos/dawsos/storage"
)

func (a *Analyst) computeMWR() agents.Def {
	return agents.Read(agents.Meta{
		Name: "metrics.compute_mwr",
		Description: "Money-weighted return (XIRR, actual/365) over the last lookback_days trading days: the opening value paid in, " +
			"the external flows of portfolio_daily_values.net_external_flow, the closing value taken out.",
		Reads: []string{"portfolios", "portfolio_daily_values"},
		Codes: []string{agents.CodeNotFound, agents.CodeInsufficientData},
	}, a.ComputeMWR)
}

// MWRInput asks for the money-weighted return over a lookback.
type MWRInput struct {
	PortfolioID  uuid.UUID `json:"portfolio_id" doc:"The portfolio."`
	LookbackDays int       `json:"lookback_days,omitempty" jsonschema:"minimum=1,maximum=2520,default=252" doc:"Trading days (valued days after the opening one) the window covers."`
	RequireFull  bool      `json:"require_full,omitempty" doc:"Fail with insufficient_data when the history is shorter than lookback_days, instead of computing over the shorter history."`
}

// MWR cash-flow kinds.
const (
	FlowOpeningValue = "opening_value"
	FlowExternal     = "external_flow"
	FlowClosingValue = "closing_value"
)

// MWRFlow is one entry of the XIRR schedule.
type MWRFlow struct {
	Date string `json:"date" doc:"YYYY-MM-DD."`
	// Amount takes the investor's view.
	Amount decimal.Decimal `json:"amount" doc:"Base currency, investor's view: money paid into the portfolio is negative (the opening value, deposits), money taken out positive (withdrawals, the closing value)."`
	Kind   string          `json:"kind" doc:"opening_value, external_flow or closing_value."`
}

// MWROutput is the money-weighted return of a window.
type MWROutput struct {
	PortfolioID uuid.UUID `json:"portfolio_id"`
	LookbackWindow
	MWR        float64 `json:"mwr" doc:"The return under the calendar rule: the XIRR de-annualised to the window, (1+xirr)^(calendar_days/365) − 1, when the window spans one calendar year or less, else the annual XIRR."`
	Annualized bool    `json:"annualized" doc:"Whether mwr is annual."`
	XIRR       float64 `json:"xirr" doc:"The annual internal rate of return of cash_flows (actual/365)."`
	// Money of the window, base currency.
	OpeningValue     decimal.Decimal   `json:"opening_value" doc:"The total value on start_date, base currency."`
	ClosingValue     decimal.Decimal   `json:"closing_value" doc:"The total value on end_date, base currency."`
	NetExternalFlows decimal.Decimal   `json:"net_external_flows" doc:"Deposits less withdrawals after start_date up to end_date (portfolio's view, positive in)."`
	CashFlows        []MWRFlow         `json:"cash_flows" doc:"The XIRR schedule, oldest first."`
	FlowSource       string            `json:"flow_source" doc:"Where the external flows come from."`
	Provenance       agents.Provenance `json:"provenance"`
}

const (
	mwrFlowSource = "portfolio_daily_values.net_external_flow: the deposits, withdrawals and transfers (portfolio_cash_flows) " +
		"converted to the base currency at the pack of the valued day they are booked on; a flow on a day without a pack is " +
		"dated on the next valued day"
	mwrConvention = "XIRR over actual/365 day counts (Newton from 0.1, bisection fallback); investor's view; " +
		"not annualised up to one calendar year, annual beyond"
)

// ComputeMWR implements metrics.compute_mwr.
func (a *Analyst) ComputeMWR(ctx context.Context, c *agents.Call, in MWRInput) (MWROutput, error) {
	out := MWROutput{PortfolioID: in.PortfolioID, CashFlows: []MWRFlow{}, FlowSource: mwrFlowSource}
	asOf, err := c.AsOfOrToday(a.deps.Now)
	if err != nil {
		return out, err
	}
	s, err := portfolioReturns(ctx, c.DB, in.PortfolioID, asOf, in.LookbackDays, minReturns(in.RequireFull, in.LookbackDays, 1))
	if err != nil {
		return out, err
	}
	out.LookbackWindow = windowOf(s, in.LookbackDays)
	m, err := moneyWeighted(s.Values)
	if err != nil {
		return out, fmt.Errorf("mwr of portfolio %s from %s to %s: %w", in.PortfolioID, out.StartDate, out.EndDate, err)
	}
	out.MWR, out.Annualized, out.XIRR = m.Return, m.Annualized, m.XIRR
	out.OpeningValue, out.ClosingValue, out.NetExternalFlows, out.CashFlows = m.Opening, m.Closing, m.NetFlows, m.Flows
	out.Provenance = c.ProvenanceAt("", asOf, "quant.XIRR and quant.PeriodMWR over the schedule in cash_flows", mwrConvention)
	return out, nil
}

// mwr is a money-weighted return and the schedule it solves.
type mwr struct {
	Return, XIRR               float64
	Annualized                 bool
	Opening, Closing, NetFlows decimal.Decimal
	Flows                      []MWRFlow
}

// moneyWeighted solves the XIRR of a window of daily values (vals[0] is
// the opening valuation; its own flows are already in its value, as in
// the TWR). A flow on the last day is an entry of its own next to the
// closing value, so the schedule shows every flow.
func moneyWeighted(vals []storage.DailyValue) (mwr, error) {
	if len(vals) < 2 {
		return mwr{}, fmt.Errorf("money-weighted return of %d valued days: %w", len(vals), quant.ErrEmpty)
	}
	first, last := vals[0], vals[len(vals)-1]
	m := mwr{Opening: first.Total, Closing: last.Total, Flows: []MWRFlow{}}
	var cf []quant.CashFlow
	in, out := false, false
	add := func(d time.Time, amount decimal.Decimal, kind string) {
		m.Flows = append(m.Flows, MWRFlow{Date: day(d), Amount: amount, Kind: kind})
		cf = append(cf, quant.CashFlow{Date: d, Amount: amount.InexactFloat64()})
		in = in || amount.IsNegative()
		out = out || amount.IsPositive()
	}
	add(first.Date, first.Total.Neg(), FlowOpeningValue)
	for _, v := range vals[1:] {
		if !v.NetExternalFlow.IsZero() {
			m.NetFlows = m.NetFlows.Add(v.NetExternalFlow)
			add(v.Date, v.NetExternalFlow.Neg(), FlowExternal)
		}
	}
	add(last.Date, last.Total, FlowClosingValue)
	if !in || !out {
		return mwr{}, agents.Errorf(agents.CodeInsufficientData,
			"no money-weighted return from %s to %s: the schedule needs money paid in and money taken out (opening value %s, closing value %s, net external flows %s)",
			day(first.Date), day(last.Date), m.Opening, m.Closing, m.NetFlows)
	}
	r, annual, err := quant.PeriodMWR(cf)
	if err != nil {
		return mwr{}, err
	}
	x, err := quant.XIRR(cf)
	if err != nil {
		return mwr{}, err
	}
	m.Return, m.Annualized, m.XIRR = r, annual, x
	return m, nil
}
