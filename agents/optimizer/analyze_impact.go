package optimizer

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/storage"
)

func (a *Optimizer) analyzeImpact() agents.Def {
	return agents.Read(agents.Meta{
		Name: "optimizer.analyze_impact",
		Description: "Before and after a proposal (optimizer.propose_trades' output, passed whole): value, cash, concentration " +
			"(HHI of weights and the effective number of positions), annualised volatility and tracking error to the benchmark " +
			"from daily base-currency returns over the proposal's window, turnover and costs.",
		Reads: []string{"portfolios", "securities", "prices", "fx_rates", "pricing_packs", "corporate_actions", "transactions"},
		Codes: []string{agents.CodeNotFound, agents.CodeInsufficientData},
	}, a.AnalyzeImpact)
}

// AnalyzeImpactInput takes a proposal.
type AnalyzeImpactInput struct {
	Proposal ImpactProposal `json:"proposal" doc:"optimizer.propose_trades' output, passed whole; only the fields below are read."`
}

// ImpactProposal is what the analysis reads of a proposal.
type ImpactProposal struct {
	PortfolioID  uuid.UUID        `json:"portfolio_id"`
	BaseCurrency string           `json:"base_currency"`
	AsOfDate     string           `json:"asof_date" doc:"The pack's date: the end of the return window."`
	LookbackDays int              `json:"lookback_days" jsonschema:"minimum=60"`
	Positions    []ImpactPosition `json:"positions" jsonschema:"minItems=1"`
	ValueBefore  decimal.Decimal  `json:"value_before"`
	ValueAfter   decimal.Decimal  `json:"value_after"`
	CashBefore   decimal.Decimal  `json:"cash_before"`
	CashAfter    decimal.Decimal  `json:"cash_after"`
	Costs        ImpactCosts      `json:"costs"`
	BuyNotional  decimal.Decimal  `json:"buy_notional"`
	SellNotional decimal.Decimal  `json:"sell_notional"`
}

// ImpactPosition is what the analysis reads of a proposed position.
type ImpactPosition struct {
	SecurityID  uuid.UUID       `json:"security_id"`
	Symbol      string          `json:"symbol"`
	ValueBefore decimal.Decimal `json:"value_before"`
	ValueAfter  decimal.Decimal `json:"value_after"`
}

// ImpactCosts is what the analysis reads of the costs.
type ImpactCosts struct {
	Commission decimal.Decimal `json:"commission"`
	Impact     decimal.Decimal `json:"impact"`
	Total      decimal.Decimal `json:"total"`
}

// Validate checks that the proposal adds up: positions plus cash make the
// value on each side, and the value after is the value before less the
// costs.
func (in AnalyzeImpactInput) Validate() error {
	p := in.Proposal
	if _, err := time.Parse(time.DateOnly, p.AsOfDate); err != nil {
		return agents.FieldError("proposal.asof_date", "asof_date %q is not YYYY-MM-DD", p.AsOfDate)
	}
	before, after := p.CashBefore, p.CashAfter
	for _, x := range p.Positions {
		before, after = before.Add(x.ValueBefore), after.Add(x.ValueAfter)
	}
	if !before.Equal(p.ValueBefore) {
		return agents.FieldError("proposal.value_before", "positions and cash before sum to %s, not value_before %s", before, p.ValueBefore)
	}
	if !after.Equal(p.ValueAfter) {
		return agents.FieldError("proposal.value_after", "positions and cash after sum to %s, not value_after %s", after, p.ValueAfter)
	}
	if !p.ValueBefore.Sub(p.Costs.Total).Equal(p.ValueAfter) {
		return agents.FieldError("proposal.costs.total", "value_before %s − costs %s is not value_after %s", p.ValueBefore, p.Costs.Total, p.ValueAfter)
	}
	if !p.ValueBefore.IsPositive() || !p.ValueAfter.IsPositive() {
		return agents.FieldError("proposal.value_before", "the values before (%s) and after (%s) must be positive", p.ValueBefore, p.ValueAfter)
	}
	return nil
}

// ImpactSide is the portfolio on one side of the trades.
type ImpactSide struct {
	Value              decimal.Decimal `json:"value"`
	Cash               decimal.Decimal `json:"cash"`
	Invested           decimal.Decimal `json:"invested"`
	Positions          int             `json:"positions" doc:"Positions with a value."`
	HHI                float64         `json:"hhi" doc:"Σ wᵢ² over the positions, wᵢ = value / total value (cash is not a position)."`
	EffectivePositions float64         `json:"effective_positions" doc:"(Σwᵢ)² / Σwᵢ²: the number of equal positions with the same concentration."`
	LargestSymbol      string          `json:"largest_symbol"`
	LargestWeight      float64         `json:"largest_weight"`
	Volatility         float64         `json:"volatility" doc:"Annualised: sample deviation of the daily returns of these weights × √252 (cash earns nothing)."`
	TrackingError      *float64        `json:"tracking_error" doc:"Annualised, against the benchmark; null without one."`
}

// ImpactChange is after − before.
type ImpactChange struct {
	Value         decimal.Decimal `json:"value"`
	Cash          decimal.Decimal `json:"cash"`
	HHI           float64         `json:"hhi"`
	Volatility    float64         `json:"volatility"`
	TrackingError *float64        `json:"tracking_error"`
}

// ImpactLine is one position's weights.
type ImpactLine struct {
	SecurityID   uuid.UUID `json:"security_id"`
	Symbol       string    `json:"symbol"`
	WeightBefore float64   `json:"weight_before"`
	WeightAfter  float64   `json:"weight_after"`
	Change       float64   `json:"change"`
}

// AnalyzeImpactOutput compares the two sides.
type AnalyzeImpactOutput struct {
	PortfolioID     uuid.UUID       `json:"portfolio_id"`
	BaseCurrency    string          `json:"base_currency"`
	AsOfDate        string          `json:"asof_date"`
	Observations    int             `json:"observations" doc:"Daily return rows of the risk figures."`
	BenchmarkSymbol string          `json:"benchmark_symbol"`
	Before          ImpactSide      `json:"before"`
	After           ImpactSide      `json:"after"`
	Change          ImpactChange    `json:"change"`
	Turnover        float64         `json:"turnover" doc:"Σ|w_after − w_before|."`
	Costs           ImpactCosts     `json:"costs"`
	CostFraction    float64         `json:"cost_fraction" doc:"costs / value before."`
	Traded          decimal.Decimal `json:"traded" doc:"Buys plus sells, in the base currency."`
	Positions       []ImpactLine    `json:"positions"`

	Provenance agents.Provenance `json:"provenance"`
}

// AnalyzeImpact implements optimizer.analyze_impact.
func (a *Optimizer) AnalyzeImpact(ctx context.Context, c *agents.Call, in AnalyzeImpactInput) (AnalyzeImpactOutput, error) {
	p := in.Proposal
	asOf, _ := time.Parse(time.DateOnly, p.AsOfDate)
	port, err := storage.GetPortfolio(ctx, c.DB, p.PortfolioID)
	if err != nil {
		return AnalyzeImpactOutput{}, err
	}
	if port.BaseCurrency != p.BaseCurrency {
		return AnalyzeImpactOutput{}, agents.FieldError("proposal.base_currency", "the proposal is in %s, portfolio %s in %s", p.BaseCurrency, port.Name, port.BaseCurrency)
	}
	out := AnalyzeImpactOutput{PortfolioID: p.PortfolioID, BaseCurrency: p.BaseCurrency, AsOfDate: p.AsOfDate, Costs: p.Costs,
		Traded: p.BuyNotional.Add(p.SellNotional), Positions: []ImpactLine{}}
	ids := make([]uuid.UUID, len(p.Positions))
	for i, x := range p.Positions {
		ids[i] = x.SecurityID
	}
	found, err := storage.ListSecurities(ctx, c.DB, storage.SecurityFilter{IDs: ids})
	if err != nil {
		return out, err
	}
	byID := map[uuid.UUID]storage.Security{}
	for _, s := range found {
		byID[s.ID] = s
	}
	secs := make([]storage.Security, len(p.Positions))
	for i, x := range p.Positions {
		s, ok := byID[x.SecurityID]
		if !ok {
			return out, fmt.Errorf("security %s (%s) of the proposal: %w", x.Symbol, x.SecurityID, storage.ErrNotFound)
		}
		secs[i] = s
	}
	var bench *storage.Security
	if port.BenchmarkSecurityID != uuid.Nil {
		b, err := storage.GetSecurity(ctx, c.DB, port.BenchmarkSecurityID)
		if err != nil {
			return out, fmt.Errorf("benchmark of portfolio %s: %w", port.Name, err)
		}
		bench = &b
		out.BenchmarkSymbol = b.Symbol
	}
	win, err := loadReturns(ctx, c.DB, p.PortfolioID, secs, bench, p.BaseCurrency, asOf, p.LookbackDays)
	if err != nil {
		return out, err
	}
	out.Observations = len(win.Dates)

	wb := make([]float64, len(p.Positions))
	wa := make([]float64, len(p.Positions))
	for i, x := range p.Positions {
		wb[i] = x.ValueBefore.DivRound(p.ValueBefore, 20).InexactFloat64()
		wa[i] = x.ValueAfter.DivRound(p.ValueAfter, 20).InexactFloat64()
		out.Turnover += math.Abs(wa[i] - wb[i])
		out.Positions = append(out.Positions, ImpactLine{SecurityID: x.SecurityID, Symbol: x.Symbol, WeightBefore: wb[i], WeightAfter: wa[i], Change: wa[i] - wb[i]})
	}
	side := func(value, cash decimal.Decimal, w []float64) (ImpactSide, error) {
		s := ImpactSide{Value: value, Cash: cash, Invested: value.Sub(cash)}
		s.HHI, s.EffectivePositions = hhi(w)
		for i, x := range w {
			if x != 0 {
				s.Positions++
			}
			if x > s.LargestWeight {
				s.LargestWeight, s.LargestSymbol = x, p.Positions[i].Symbol
			}
		}
		var err error
		if s.Volatility, err = win.volatility(w); err != nil {
			return s, err
		}
		s.TrackingError, err = win.trackingError(w)
		return s, err
	}
	if out.Before, err = side(p.ValueBefore, p.CashBefore, wb); err != nil {
		return out, err
	}
	if out.After, err = side(p.ValueAfter, p.CashAfter, wa); err != nil {
		return out, err
	}
	out.Change = ImpactChange{Value: p.ValueAfter.Sub(p.ValueBefore), Cash: p.CashAfter.Sub(p.CashBefore), HHI: out.After.HHI - out.Before.HHI,
		Volatility: out.After.Volatility - out.Before.Volatility}
	if out.Before.TrackingError != nil && out.After.TrackingError != nil {
		d := *out.After.TrackingError - *out.Before.TrackingError
		out.Change.TrackingError = &d
	}
	out.CostFraction = p.Costs.Total.DivRound(p.ValueBefore, 20).InexactFloat64()
	out.Provenance = c.Provenance(fmt.Sprintf("weights from the proposal's values before and after; risk from %d aligned daily returns up to %s", len(win.Dates), p.AsOfDate),
		"weights are fractions of the side's total value (cash included, cash earns nothing); HHI = Σ w²; "+returnsConvention+
			"; volatility and tracking error annualised × √252, sample deviations (ddof 1)")
	out.Provenance.AsOfDate = p.AsOfDate
	return out, nil
}

// hhi is Σ wᵢ² and the effective number of positions (Σwᵢ)²/Σwᵢ².
func hhi(weights []float64) (float64, float64) {
	sum, sq := 0.0, 0.0
	for _, w := range weights {
		sum += w
		sq += w * w
	}
	if sq == 0 {
		return 0, 0
	}
	return sq, sum * sum / sq
}
