package optimizer

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/quant"
	"github.com/dawsos/dawsos/storage"
)

func (a *Optimizer) proposeTrades() agents.Def {
	return agents.Read(agents.Meta{
		Name: "optimizer.propose_trades",
		Description: "Target weights by max_sharpe, min_variance, risk_parity or min_cvar over the held securities (or a given " +
			"universe) from daily base-currency returns of the fresh packs, long-only, with per-position min/max weight, sector " +
			"caps (securities.sector) and a turnover cap enforced and reported (binding or not); tracking error to the benchmark " +
			"reported against te_limit; whole-share trades in exact decimals with commission and impact costs. Fewer than 60 " +
			"return rows is insufficient_data.",
		Reads: []string{"portfolios", "lots", "transactions", "securities", "prices", "fx_rates", "pricing_packs", "corporate_actions"},
		Codes: []string{agents.CodeNotFound, agents.CodeInsufficientData, agents.CodeMissingPrice, agents.CodeMissingFX,
			agents.CodePricingPackWarming, agents.CodeNoConvergence},
	}, a.ProposeTrades)
}

// Optimisation methods.
const (
	MethodMaxSharpe   = "max_sharpe"
	MethodMinVariance = "min_variance"
	MethodRiskParity  = "risk_parity"
	MethodMinCVaR     = "min_cvar"
)

// ProposeTradesInput asks for a rebalance of a portfolio.
type ProposeTradesInput struct {
	PortfolioID uuid.UUID   `json:"portfolio_id" doc:"The portfolio; it is valued with the run's pricing pack."`
	Method      string      `json:"method,omitempty" jsonschema:"enum=max_sharpe|min_variance|risk_parity|min_cvar,default=max_sharpe" doc:"The optimiser."`
	Universe    []uuid.UUID `json:"universe,omitempty" doc:"The securities the proposal may hold; held securities outside it are sold (max weight 0). Default: the held securities."`
	// Constraints are the limits the weights must respect.
	Constraints  *TradeConstraints `json:"constraints,omitempty" doc:"Weight bounds, sector caps, turnover cap and tracking-error limit; every limit is optional."`
	LookbackDays int               `json:"lookback_days,omitempty" jsonschema:"minimum=60,maximum=2520,default=252" doc:"At most this many daily returns up to the pack's date; at least 60 aligned rows are needed."`
	// CVaRConfidence is min_cvar's confidence.
	CVaRConfidence     float64         `json:"cvar_confidence,omitempty" jsonschema:"exclusiveMinimum=0.5,exclusiveMaximum=1,default=0.95" doc:"Confidence of min_cvar's CVaR over the daily return rows."`
	CommissionPerTrade decimal.Decimal `json:"commission_per_trade,omitempty" jsonschema:"default=0" doc:"Flat commission per order, in the base currency (default 0)."`
	ImpactBps          float64         `json:"impact_bps,omitempty" jsonschema:"minimum=0,maximum=1000,default=5" doc:"Market impact and spread, basis points of each order's notional (default 5)."`
}

// TradeConstraints are the limits of a proposal. Weights are fractions of
// the portfolio's total value.
type TradeConstraints struct {
	MinWeight   *float64           `json:"min_weight,omitempty" jsonschema:"minimum=0,maximum=1" doc:"Lower bound of every security's weight (default 0: long-only)."`
	MaxWeight   *float64           `json:"max_weight,omitempty" jsonschema:"minimum=0,maximum=1" doc:"Upper bound of every security's weight (default 1)."`
	Bounds      []WeightBound      `json:"bounds,omitempty" doc:"Bounds of single securities, overriding min_weight and max_weight."`
	SectorCap   *float64           `json:"sector_cap,omitempty" jsonschema:"minimum=0,maximum=1" doc:"Cap on the total weight of every sector (securities.sector)."`
	SectorCaps  map[string]float64 `json:"sector_caps,omitempty" doc:"Caps of named sectors, overriding sector_cap."`
	TurnoverCap *float64           `json:"turnover_cap,omitempty" jsonschema:"exclusiveMinimum=0,maximum=2" doc:"Cap on turnover Σ|w − w0| (w0: current weights, cash included in the total)."`
	TELimit     *float64           `json:"te_limit,omitempty" jsonschema:"exclusiveMinimum=0" doc:"Annualised tracking-error limit against the portfolio's benchmark: reported against, not enforced."`
}

// WeightBound bounds one security's weight.
type WeightBound struct {
	SecurityID uuid.UUID `json:"security_id"`
	MinWeight  *float64  `json:"min_weight,omitempty" jsonschema:"minimum=0,maximum=1"`
	MaxWeight  *float64  `json:"max_weight,omitempty" jsonschema:"minimum=0,maximum=1"`
}

// Validate checks the rules the schema cannot state.
func (in ProposeTradesInput) Validate() error {
	if in.CommissionPerTrade.Sign() < 0 {
		return agents.FieldError("commission_per_trade", "commission %s is negative", in.CommissionPerTrade)
	}
	c := in.Constraints
	if c == nil {
		return nil
	}
	if c.MinWeight != nil && c.MaxWeight != nil && *c.MinWeight > *c.MaxWeight {
		return agents.FieldError("constraints.min_weight", "min_weight %g is above max_weight %g", *c.MinWeight, *c.MaxWeight)
	}
	for i, b := range c.Bounds {
		if b.MinWeight != nil && b.MaxWeight != nil && *b.MinWeight > *b.MaxWeight {
			return agents.FieldError(fmt.Sprintf("constraints.bounds[%d].min_weight", i), "min_weight %g is above max_weight %g", *b.MinWeight, *b.MaxWeight)
		}
	}
	for _, s := range sortedKeys(c.SectorCaps) {
		if v := c.SectorCaps[s]; !(v >= 0 && v <= 1) {
			return agents.FieldError("constraints.sector_caps."+s, "sector cap %g is outside [0, 1]", v)
		}
	}
	return nil
}

// ProposedPosition is one security before and after the proposal.
type ProposedPosition struct {
	SecurityID    uuid.UUID       `json:"security_id"`
	Symbol        string          `json:"symbol"`
	Name          string          `json:"name"`
	Sector        string          `json:"sector"`
	Held          bool            `json:"held" doc:"Held before the trades."`
	Close         decimal.Decimal `json:"close" doc:"The pack's close, in price_currency."`
	PriceCurrency string          `json:"price_currency"`
	FXRate        decimal.Decimal `json:"fx_rate" doc:"1 price_currency = fx_rate base currency (the pack's rate)."`
	SharesBefore  decimal.Decimal `json:"shares_before"`
	SharesAfter   decimal.Decimal `json:"shares_after"`
	ValueBefore   decimal.Decimal `json:"value_before" doc:"shares_before × close × fx_rate."`
	ValueAfter    decimal.Decimal `json:"value_after" doc:"shares_after × close × fx_rate."`
	WeightBefore  float64         `json:"weight_before" doc:"value_before / value_before of the portfolio."`
	WeightTarget  float64         `json:"weight_target" doc:"The optimiser's weight."`
	WeightAfter   float64         `json:"weight_after" doc:"value_after / value_after of the portfolio (after costs)."`
	Drift         float64         `json:"drift" doc:"weight_after − weight_target, from whole shares and costs."`
	MinWeight     float64         `json:"min_weight"`
	MaxWeight     float64         `json:"max_weight"`
	RiskShare     float64         `json:"risk_share" doc:"The optimiser's risk contribution of the security at the target (fractions summing to 1)."`
}

// Trade is one whole-share order.
type Trade struct {
	SecurityID    uuid.UUID       `json:"security_id"`
	Symbol        string          `json:"symbol"`
	Side          string          `json:"side" doc:"buy or sell."`
	Quantity      decimal.Decimal `json:"quantity" doc:"Whole shares."`
	Close         decimal.Decimal `json:"close"`
	PriceCurrency string          `json:"price_currency"`
	FXRate        decimal.Decimal `json:"fx_rate"`
	NotionalLocal decimal.Decimal `json:"notional_local" doc:"quantity × close, in price_currency."`
	Notional      decimal.Decimal `json:"notional" doc:"notional_local × fx_rate, in the base currency."`
	Commission    decimal.Decimal `json:"commission"`
	Impact        decimal.Decimal `json:"impact" doc:"notional × impact_bps / 10 000."`
	Cost          decimal.Decimal `json:"cost" doc:"commission + impact."`
}

// ConstraintCheck is one limit and where the proposal stands against it.
type ConstraintCheck struct {
	Constraint string  `json:"constraint" doc:"min_weight, max_weight, sector_cap or turnover."`
	Subject    string  `json:"subject" doc:"The security's symbol, the sector, or portfolio."`
	Limit      float64 `json:"limit"`
	Target     float64 `json:"target" doc:"The figure at the optimiser's weights."`
	After      float64 `json:"after" doc:"The figure after whole-share rounding and costs."`
	Binding    bool    `json:"binding" doc:"The limit holds with equality at the target (within 1e-7): it shapes the answer."`
	Held       bool    `json:"held" doc:"The figure after rounding is within the limit (within 1e-9)."`
}

// TrackingErrorReport is the proposal's tracking error against the
// portfolio's benchmark and the limit.
type TrackingErrorReport struct {
	BenchmarkID     *uuid.UUID `json:"benchmark_id"`
	BenchmarkSymbol string     `json:"benchmark_symbol"`
	Before          *float64   `json:"before" doc:"Of the current weights (annualised: std of daily active returns × √252)."`
	Target          *float64   `json:"target"`
	After           *float64   `json:"after" doc:"Of the weights after rounding; this is the figure checked against the limit."`
	Limit           *float64   `json:"limit"`
	Status          string     `json:"status" doc:"within, exceeded, no_limit or no_benchmark."`
	Enforced        bool       `json:"enforced" doc:"Always false: the limit is reported against, not imposed on the optimiser."`
	Note            string     `json:"note"`
}

// TradeCosts are the proposal's costs.
type TradeCosts struct {
	CommissionPerTrade decimal.Decimal `json:"commission_per_trade"`
	ImpactBps          float64         `json:"impact_bps"`
	Orders             int             `json:"orders"`
	Commission         decimal.Decimal `json:"commission"`
	Impact             decimal.Decimal `json:"impact"`
	Total              decimal.Decimal `json:"total"`
}

// ProposeTradesOutput is a rebalancing proposal.
type ProposeTradesOutput struct {
	PortfolioID   uuid.UUID `json:"portfolio_id"`
	BaseCurrency  string    `json:"base_currency"`
	PricingPackID string    `json:"pricing_pack_id"`
	AsOfDate      string    `json:"asof_date" doc:"The pack's date: holdings, prices and the end of the return window."`
	Method        string    `json:"method"`
	LookbackDays  int       `json:"lookback_days"`
	Observations  int       `json:"observations" doc:"Aligned daily return rows the optimiser used."`
	WindowStart   string    `json:"window_start"`
	WindowEnd     string    `json:"window_end"`

	Positions []ProposedPosition `json:"positions" doc:"Every security of the optimisation, by symbol."`
	Trades    []Trade            `json:"trades" doc:"The orders, by symbol."`
	Costs     TradeCosts         `json:"costs"`

	ValueBefore  decimal.Decimal `json:"value_before" doc:"Total value before, cash included."`
	ValueAfter   decimal.Decimal `json:"value_after" doc:"value_before − costs."`
	CashBefore   decimal.Decimal `json:"cash_before"`
	CashAfter    decimal.Decimal `json:"cash_after" doc:"Never negative."`
	BuyNotional  decimal.Decimal `json:"buy_notional"`
	SellNotional decimal.Decimal `json:"sell_notional"`

	Turnover      float64  `json:"turnover" doc:"Σ|w_target − w_before|."`
	TurnoverAfter float64  `json:"turnover_after" doc:"Σ|w_after − w_before|."`
	Return        *float64 `json:"expected_return" doc:"Annualised (mean daily × 252) expected return at the target; max_sharpe and min_cvar only."`
	Volatility    float64  `json:"volatility" doc:"Annualised volatility at the target (daily × √252); for min_cvar the sample deviation of the daily rows."`
	Sharpe        *float64 `json:"sharpe" doc:"Annualised Sharpe ratio at the target; max_sharpe only."`
	VaR           *float64 `json:"var" doc:"min_cvar: the daily loss quantile at the confidence, a positive fraction."`
	CVaR          *float64 `json:"cvar" doc:"min_cvar: the mean daily loss beyond it."`

	Constraints   []ConstraintCheck   `json:"constraints" doc:"Every limit, with the target and rounded figures."`
	Binding       []string            `json:"binding" doc:"The limits that bind at the target."`
	TrackingError TrackingErrorReport `json:"tracking_error"`
	Iterations    int                 `json:"solver_iterations"`
	Note          string              `json:"note,omitempty"`

	Provenance agents.Provenance `json:"provenance"`
}

// asset is one security of an optimisation.
type asset struct {
	sec    storage.Security
	held   bool
	exit   bool // held, outside the universe: sold
	shares decimal.Decimal
	close  decimal.Decimal
	ccy    string
	fx     decimal.Decimal
	lo, hi float64
}

func (s asset) price() decimal.Decimal { return s.close.Mul(s.fx) }

// ProposeTrades implements optimizer.propose_trades.
func (a *Optimizer) ProposeTrades(ctx context.Context, c *agents.Call, in ProposeTradesInput) (ProposeTradesOutput, error) {
	if c.Run.PricingPackID == "" {
		return ProposeTradesOutput{}, agents.FieldError("ctx.pricing_pack_id", "the run has no pricing pack")
	}
	v, err := storage.ValuePortfolio(ctx, c.DB, in.PortfolioID, c.Run.PricingPackID)
	if err != nil {
		return ProposeTradesOutput{}, fmt.Errorf("value portfolio %s with pack %s: %w", in.PortfolioID, c.Run.PricingPackID, err)
	}
	port, err := storage.GetPortfolio(ctx, c.DB, in.PortfolioID)
	if err != nil {
		return ProposeTradesOutput{}, err
	}
	assets, err := optimisationAssets(ctx, c.DB, v, in)
	if err != nil {
		return ProposeTradesOutput{}, err
	}
	if !v.Total.IsPositive() {
		return ProposeTradesOutput{}, agents.Errorf(agents.CodeInsufficientData, "portfolio %s is worth %s %s: there is nothing to allocate", port.Name, v.Total, v.BaseCurrency)
	}
	var bench *storage.Security
	if port.BenchmarkSecurityID != uuid.Nil {
		b, err := storage.GetSecurity(ctx, c.DB, port.BenchmarkSecurityID)
		if err != nil {
			return ProposeTradesOutput{}, fmt.Errorf("benchmark of portfolio %s: %w", port.Name, err)
		}
		bench = &b
	}
	secs := make([]storage.Security, len(assets))
	for i, s := range assets {
		secs[i] = s.sec
	}
	win, err := loadReturns(ctx, c.DB, in.PortfolioID, secs, bench, v.BaseCurrency, v.AsOf, in.LookbackDays)
	if err != nil {
		return ProposeTradesOutput{}, err
	}

	total := v.Total
	totalF := total.InexactFloat64()
	w0 := make([]float64, len(assets))
	for i, s := range assets {
		w0[i] = s.shares.Mul(s.price()).DivRound(total, 20).InexactFloat64()
	}
	qc, sectorNames, err := quantConstraints(assets, in.Constraints, w0)
	if err != nil {
		return ProposeTradesOutput{}, err
	}
	res, err := optimise(in, win, qc, a.deps.RiskFreeRate)
	if err != nil {
		return ProposeTradesOutput{}, fmt.Errorf("%s over %d securities and %d daily returns: %w", in.Method, len(assets), len(win.Dates), err)
	}
	target := make([]float64, len(assets))
	for i, w := range res.Weights {
		// The solvers land within their tolerance of a bound; a weight a
		// hair below 0 is 0.
		target[i] = math.Max(0, w)
	}

	// Whole shares: quant.RoundToShares picks the orders; the book redoes
	// every amount in decimals and keeps cash, max weights and sector caps
	// within their limits.
	prices := make([]float64, len(assets))
	held := make([]float64, len(assets))
	for i, s := range assets {
		prices[i] = s.price().InexactFloat64()
		held[i] = s.shares.InexactFloat64()
	}
	rounded, err := quant.RoundToShares(target, prices, held, totalF, in.CommissionPerTrade.InexactFloat64(), in.ImpactBps)
	if err != nil {
		return ProposeTradesOutput{}, fmt.Errorf("round the %s weights to whole shares: %w", in.Method, err)
	}
	b := newBook(assets, v.CashValue, in.CommissionPerTrade, in.ImpactBps, target)
	for _, t := range rounded.Trades {
		b.trade[t.Asset] = t.Shares
	}
	if err := b.enforce(qc, sectorNames); err != nil {
		return ProposeTradesOutput{}, err
	}
	st := b.state()

	out := ProposeTradesOutput{
		PortfolioID: in.PortfolioID, BaseCurrency: v.BaseCurrency, PricingPackID: v.PackID, AsOfDate: v.AsOf.Format(time.DateOnly),
		Method: in.Method, LookbackDays: in.LookbackDays, Observations: len(win.Dates),
		WindowStart: win.Dates[0].Format(time.DateOnly), WindowEnd: win.Dates[len(win.Dates)-1].Format(time.DateOnly),
		Positions: []ProposedPosition{}, Trades: []Trade{}, Binding: []string{},
		ValueBefore: total, ValueAfter: st.value, CashBefore: v.CashValue, CashAfter: st.cash,
		Costs: TradeCosts{CommissionPerTrade: in.CommissionPerTrade, ImpactBps: in.ImpactBps, Commission: st.commission, Impact: st.impact,
			Total: st.commission.Add(st.impact)},
		Turnover: res.Turnover, Iterations: res.Iterations,
	}
	after := make([]float64, len(assets))
	for i, s := range assets {
		after[i] = st.mv[i].DivRound(st.value, 20).InexactFloat64()
		out.TurnoverAfter += math.Abs(after[i] - w0[i])
		p := ProposedPosition{SecurityID: s.sec.ID, Symbol: s.sec.Symbol, Name: s.sec.Name, Sector: s.sec.Sector, Held: s.held,
			Close: s.close, PriceCurrency: s.ccy, FXRate: s.fx, SharesBefore: s.shares, SharesAfter: b.sharesAfter(i),
			ValueBefore: s.shares.Mul(s.price()), ValueAfter: st.mv[i], WeightBefore: w0[i], WeightTarget: target[i],
			WeightAfter: after[i], Drift: after[i] - target[i], MinWeight: qc.MinWeight[i], MaxWeight: qc.MaxWeight[i]}
		if i < len(res.RiskContributions) {
			p.RiskShare = res.RiskContributions[i]
		}
		out.Positions = append(out.Positions, p)
		if b.trade[i] == 0 {
			continue
		}
		o := b.order(i)
		out.Trades = append(out.Trades, o)
		out.Costs.Orders++
		if o.Side == "buy" {
			out.BuyNotional = out.BuyNotional.Add(o.Notional)
		} else {
			out.SellNotional = out.SellNotional.Add(o.Notional)
		}
	}
	out.Volatility = res.Volatility * math.Sqrt(quant.PeriodsPerYear)
	if res.HasExpectedReturn {
		out.Return = finiteOrNil(res.ExpectedReturn * quant.PeriodsPerYear)
	}
	switch in.Method {
	case MethodMaxSharpe:
		out.Sharpe = finiteOrNil(res.Sharpe * math.Sqrt(quant.PeriodsPerYear))
	case MethodMinCVaR:
		out.VaR, out.CVaR = finiteOrNil(res.VaR), finiteOrNil(res.CVaR)
	}
	out.Constraints, out.Binding = constraintChecks(assets, qc, sectorNames, target, after, w0, res.Turnover, out.TurnoverAfter)
	if out.TrackingError, err = trackingReport(win, bench, w0, target, after, in.Constraints); err != nil {
		return ProposeTradesOutput{}, err
	}
	notes := []string{}
	if res.Note != "" {
		notes = append(notes, res.Note)
	}
	if b.trimmed > 0 {
		notes = append(notes, fmt.Sprintf("%d share(s) were taken off orders after rounding to keep cash non-negative and max weights and sector caps within their limits", b.trimmed))
	}
	out.Note = strings.Join(notes, "; ")
	sort.Slice(out.Positions, func(i, j int) bool { return out.Positions[i].Symbol < out.Positions[j].Symbol })
	sort.Slice(out.Trades, func(i, j int) bool { return out.Trades[i].Symbol < out.Trades[j].Symbol })

	out.Provenance = c.Provenance(methodText(in, len(win.Dates)),
		"weights are fractions of the total value (cash included), long-only, summing to 1 at the target; "+returnsConvention+
			"; annualised: mean × 252, deviation × √252; orders are whole shares, costs = commission per order + impact_bps of the notional, in the base currency")
	out.Provenance.PricingPackID, out.Provenance.AsOfDate = v.PackID, v.AsOf.Format(time.DateOnly)
	return out, nil
}

// methodText says how the target weights were found.
func methodText(in ProposeTradesInput, rows int) string {
	switch in.Method {
	case MethodMinVariance:
		return fmt.Sprintf("quant.MinVariance: least wᵀΣw, Σ the sample covariance (ddof 1) of %d daily returns; then quant.RoundToShares", rows)
	case MethodRiskParity:
		return fmt.Sprintf("quant.RiskParity: equal risk contributions wᵢ(Σw)ᵢ under the constraints, Σ the sample covariance of %d daily returns; then quant.RoundToShares", rows)
	case MethodMinCVaR:
		return fmt.Sprintf("quant.MinCVaR: least CVaR at %g over the %d daily return rows as equally likely scenarios (Rockafellar-Uryasev LP); then quant.RoundToShares", in.CVaRConfidence, rows)
	}
	return fmt.Sprintf("quant.MaxSharpe: highest (wᵀμ − rf)/√(wᵀΣw), μ the mean and Σ the sample covariance of %d daily returns, rf the configured annual rate as (1+rf)^(1/252) − 1; then quant.RoundToShares", rows)
}

// optimisationAssets lists the held securities (with the pack's closes and
// rates of the valuation) and those of the universe, by symbol, with
// their weight bounds.
func optimisationAssets(ctx context.Context, q storage.Querier, v storage.Valuation, in ProposeTradesInput) ([]asset, error) {
	inUniverse := map[uuid.UUID]bool{}
	for _, id := range in.Universe {
		inUniverse[id] = true
	}
	var out []asset
	have := map[uuid.UUID]int{}
	for _, p := range v.Positions {
		if !p.Quantity.IsPositive() {
			continue
		}
		have[p.SecurityID] = len(out)
		out = append(out, asset{
			sec:  storage.Security{ID: p.SecurityID, Symbol: p.Symbol, Name: p.Name, Type: p.Type, Currency: p.Currency, Sector: p.Sector, Country: p.Country},
			held: true, exit: len(in.Universe) > 0 && !inUniverse[p.SecurityID],
			shares: p.Quantity, close: p.Close, ccy: p.PriceCurrency, fx: p.FXRate,
		})
	}
	var extra []uuid.UUID
	for _, id := range in.Universe {
		if _, ok := have[id]; !ok {
			extra = append(extra, id)
			have[id] = -1
		}
	}
	if len(extra) > 0 {
		secs, err := storage.ListSecurities(ctx, q, storage.SecurityFilter{IDs: extra})
		if err != nil {
			return nil, err
		}
		if len(secs) != len(extra) {
			found := map[uuid.UUID]bool{}
			for _, s := range secs {
				found[s.ID] = true
			}
			for _, id := range extra {
				if !found[id] {
					return nil, fmt.Errorf("universe security %s: %w", id, storage.ErrNotFound)
				}
			}
		}
		prices, err := storage.PricesInPack(ctx, q, v.PackID, extra)
		if err != nil {
			return nil, err
		}
		for _, s := range secs {
			pr := prices[s.ID]
			fx, err := storage.FXRate(ctx, q, v.PackID, pr.Currency, v.BaseCurrency)
			if err != nil {
				return nil, fmt.Errorf("price %s in %s: %w", s.Symbol, v.BaseCurrency, err)
			}
			have[s.ID] = len(out)
			out = append(out, asset{sec: s, close: pr.Close, ccy: pr.Currency, fx: fx})
		}
	}
	if len(out) == 0 {
		return nil, agents.InsufficientData(fmt.Sprintf("securities to optimise over (portfolio %s holds none at %s and no universe was given)",
			v.PortfolioID, v.AsOf.Format(time.DateOnly)), 0, 1)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].sec.Symbol < out[j].sec.Symbol })
	for i := range out {
		have[out[i].sec.ID] = i
	}

	lo, hi := 0.0, 1.0
	c := in.Constraints
	if c != nil && c.MinWeight != nil {
		lo = *c.MinWeight
	}
	if c != nil && c.MaxWeight != nil {
		hi = *c.MaxWeight
	}
	for i := range out {
		out[i].lo, out[i].hi = lo, hi
	}
	if c != nil {
		for k, b := range c.Bounds {
			i, ok := have[b.SecurityID]
			if !ok {
				return nil, agents.FieldError(fmt.Sprintf("constraints.bounds[%d].security_id", k), "security %s is neither held nor in the universe", b.SecurityID)
			}
			if b.MinWeight != nil {
				out[i].lo = *b.MinWeight
			}
			if b.MaxWeight != nil {
				out[i].hi = *b.MaxWeight
			}
			if out[i].lo > out[i].hi {
				return nil, agents.FieldError(fmt.Sprintf("constraints.bounds[%d]", k), "%s: min weight %g is above max weight %g", out[i].sec.Symbol, out[i].lo, out[i].hi)
			}
		}
	}
	for i := range out {
		if out[i].exit {
			if out[i].lo > 0 {
				return nil, agents.FieldError("universe", "%s is held and outside the universe, so it is sold, yet its min weight is %g", out[i].sec.Symbol, out[i].lo)
			}
			out[i].hi = 0
		}
	}
	return out, nil
}

// quantConstraints turns the limits into quant.Constraints: bounds per
// asset, one capped group per sector that has a cap, the current weights
// and the turnover cap. It returns the capped sectors' names in group
// order.
func quantConstraints(assets []asset, c *TradeConstraints, w0 []float64) (quant.Constraints, []string, error) {
	qc := quant.Constraints{MinWeight: make([]float64, len(assets)), MaxWeight: make([]float64, len(assets)), CurrentWeights: w0}
	for i, s := range assets {
		qc.MinWeight[i], qc.MaxWeight[i] = s.lo, s.hi
	}
	if c == nil {
		return qc, nil, nil
	}
	if c.TurnoverCap != nil {
		qc.TurnoverCap = *c.TurnoverCap
	}
	if c.SectorCap == nil && len(c.SectorCaps) == 0 {
		return qc, nil, nil
	}
	group := map[string]int{}
	var names []string
	qc.Sector = make([]int, len(assets))
	for i, s := range assets {
		qc.Sector[i] = -1
		limit, ok := c.SectorCaps[s.sec.Sector]
		if !ok && c.SectorCap != nil {
			limit, ok = *c.SectorCap, true
		}
		if !ok {
			continue
		}
		if s.sec.Sector == "" {
			return qc, nil, agents.FieldError("constraints.sector_cap", "%s has no sector (securities.sector), so a sector cap cannot apply to it", s.sec.Symbol)
		}
		g, seen := group[s.sec.Sector]
		if !seen {
			g = len(names)
			group[s.sec.Sector] = g
			names = append(names, s.sec.Sector)
			qc.SectorCaps = append(qc.SectorCaps, limit)
		}
		qc.Sector[i] = g
	}
	qc.SectorNames = names
	return qc, names, nil
}

// optimise runs the method.
func optimise(in ProposeTradesInput, win returnWindow, qc quant.Constraints, rfAnnual float64) (quant.OptimizationResult, error) {
	if in.Method == MethodMinCVaR {
		return quant.MinCVaR(win.scenarios(), in.CVaRConfidence, qc)
	}
	cov, err := win.covariance()
	if err != nil {
		return quant.OptimizationResult{}, err
	}
	switch in.Method {
	case MethodMinVariance:
		return quant.MinVariance(cov, qc)
	case MethodRiskParity:
		return quant.RiskParity(cov, qc)
	}
	rf := math.Pow(1+rfAnnual, 1.0/quant.PeriodsPerYear) - 1
	return quant.MaxSharpe(win.means(), cov, rf, qc)
}

// constraintChecks reports every limit at the target and after rounding,
// and lists the binding ones.
func constraintChecks(assets []asset, qc quant.Constraints, sectors []string, target, after, w0 []float64, turnover, turnoverAfter float64) ([]ConstraintCheck, []string) {
	const heldTol = 1e-9
	checks := []ConstraintCheck{}
	binding := []string{}
	add := func(k ConstraintCheck, upper bool) {
		k.Binding = math.Abs(k.Target-k.Limit) <= quant.OptTolerance
		if upper {
			k.Held = k.After <= k.Limit+heldTol
		} else {
			k.Held = k.After >= k.Limit-heldTol
		}
		if k.Binding {
			binding = append(binding, fmt.Sprintf("%s[%s]", k.Constraint, k.Subject))
		}
		checks = append(checks, k)
	}
	for i, s := range assets {
		add(ConstraintCheck{Constraint: "min_weight", Subject: s.sec.Symbol, Limit: qc.MinWeight[i], Target: target[i], After: after[i]}, false)
		add(ConstraintCheck{Constraint: "max_weight", Subject: s.sec.Symbol, Limit: qc.MaxWeight[i], Target: target[i], After: after[i]}, true)
	}
	for g, name := range sectors {
		k := ConstraintCheck{Constraint: "sector_cap", Subject: name, Limit: qc.SectorCaps[g]}
		for i, sg := range qc.Sector {
			if sg == g {
				k.Target += target[i]
				k.After += after[i]
			}
		}
		add(k, true)
	}
	if qc.TurnoverCap > 0 {
		add(ConstraintCheck{Constraint: "turnover", Subject: "portfolio", Limit: qc.TurnoverCap, Target: turnover, After: turnoverAfter}, true)
	}
	return checks, binding
}

// trackingReport computes the tracking error of the current, target and
// rounded weights and checks the rounded one against the limit.
func trackingReport(win returnWindow, bench *storage.Security, w0, target, after []float64, c *TradeConstraints) (TrackingErrorReport, error) {
	r := TrackingErrorReport{Note: "reported, not enforced: the optimisers take linear limits (bounds, sector caps, turnover) and tracking error " +
		"is quadratic in the weights; a proposal above the limit is reported as exceeded (tighter weight bounds or turnover keep it nearer the current portfolio)"}
	if c != nil {
		r.Limit = c.TELimit
	}
	if bench == nil {
		r.Status = "no_benchmark"
		r.Note = "the portfolio has no benchmark security, so there is no tracking error"
		return r, nil
	}
	id := bench.ID
	r.BenchmarkID, r.BenchmarkSymbol = &id, bench.Symbol
	var err error
	if r.Before, err = win.trackingError(w0); err != nil {
		return r, err
	}
	if r.Target, err = win.trackingError(target); err != nil {
		return r, err
	}
	if r.After, err = win.trackingError(after); err != nil {
		return r, err
	}
	switch {
	case r.Limit == nil:
		r.Status = "no_limit"
	case *r.After > *r.Limit:
		r.Status = "exceeded"
	default:
		r.Status = "within"
	}
	return r, nil
}

// book holds the whole-share orders and recomputes every amount in
// decimals.
type book struct {
	assets     []asset
	target     []float64
	cashBefore decimal.Decimal
	commission decimal.Decimal
	impactRate decimal.Decimal // impact_bps / 10 000
	trade      []int64
	trimmed    int
}

func newBook(assets []asset, cash, commission decimal.Decimal, impactBps float64, target []float64) *book {
	return &book{assets: assets, target: target, cashBefore: cash, commission: commission,
		impactRate: decimal.NewFromFloat(impactBps).Div(decimal.NewFromInt(10000)), trade: make([]int64, len(assets))}
}

func (b *book) sharesAfter(i int) decimal.Decimal {
	return b.assets[i].shares.Add(decimal.NewFromInt(b.trade[i]))
}

// order is asset i's order in decimals.
func (b *book) order(i int) Trade {
	s := b.assets[i]
	qty := decimal.NewFromInt(b.trade[i]).Abs()
	t := Trade{SecurityID: s.sec.ID, Symbol: s.sec.Symbol, Side: "buy", Quantity: qty, Close: s.close, PriceCurrency: s.ccy, FXRate: s.fx,
		NotionalLocal: qty.Mul(s.close)}
	if b.trade[i] < 0 {
		t.Side = "sell"
	}
	t.Notional = t.NotionalLocal.Mul(s.fx)
	if b.trade[i] != 0 {
		t.Commission = b.commission
	}
	t.Impact = t.Notional.Mul(b.impactRate)
	t.Cost = t.Commission.Add(t.Impact)
	return t
}

// bookState is the portfolio after the orders.
type bookState struct {
	mv                 []decimal.Decimal
	cash, value        decimal.Decimal
	commission, impact decimal.Decimal
}

func (b *book) state() bookState {
	st := bookState{mv: make([]decimal.Decimal, len(b.assets)), cash: b.cashBefore}
	for i, s := range b.assets {
		st.mv[i] = b.sharesAfter(i).Mul(s.price())
		if b.trade[i] == 0 {
			continue
		}
		o := b.order(i)
		if o.Side == "buy" {
			st.cash = st.cash.Sub(o.Notional)
		} else {
			st.cash = st.cash.Add(o.Notional)
		}
		st.cash = st.cash.Sub(o.Cost)
		st.commission = st.commission.Add(o.Commission)
		st.impact = st.impact.Add(o.Impact)
	}
	st.value = st.cash
	for _, v := range st.mv {
		st.value = st.value.Add(v)
	}
	return st
}

// maxTrims bounds the share-by-share corrections of enforce.
const maxTrims = 1_000_000

// enforce takes single shares off orders (a smaller buy or a larger sell)
// until the cash is non-negative and every max weight and sector cap
// holds after costs, in exact decimals. Rounding to the nearest share and
// paying the costs out of the total can each push a position at its limit
// a share over it.
func (b *book) enforce(qc quant.Constraints, sectors []string) error {
	over := func(i int, st bookState) decimal.Decimal {
		return st.mv[i].Div(st.value).Sub(decimal.NewFromFloat(b.target[i]))
	}
	take := func(i int) { b.trade[i]--; b.trimmed++ }
	for n := 0; n < maxTrims; n++ {
		st := b.state()
		if !st.value.IsPositive() {
			return agents.Errorf(agents.CodeInvalidInput, "the costs of the orders exceed the portfolio's value")
		}
		changed := false
		for i := range b.assets {
			if b.sharesAfter(i).GreaterThanOrEqual(decimal.NewFromInt(1)) && st.mv[i].GreaterThan(decimal.NewFromFloat(qc.MaxWeight[i]).Mul(st.value)) {
				take(i)
				changed = true
				break
			}
		}
		if !changed && qc.Sector != nil {
			for g := range sectors {
				sum := decimal.Zero
				best := -1
				for i, sg := range qc.Sector {
					if sg != g {
						continue
					}
					sum = sum.Add(st.mv[i])
					if b.sharesAfter(i).GreaterThanOrEqual(decimal.NewFromInt(1)) && (best < 0 || over(i, st).GreaterThan(over(best, st))) {
						best = i
					}
				}
				if best >= 0 && sum.GreaterThan(decimal.NewFromFloat(qc.SectorCaps[g]).Mul(st.value)) {
					take(best)
					changed = true
					break
				}
			}
		}
		if !changed && st.cash.IsNegative() {
			best := -1
			for i := range b.assets {
				if b.trade[i] > 0 && (best < 0 || over(i, st).GreaterThan(over(best, st))) {
					best = i
				}
			}
			if best < 0 {
				return agents.Errorf(agents.CodeInvalidInput, "the sells and the cash (%s) cannot pay the orders' costs", st.cash)
			}
			take(best)
			changed = true
		}
		if !changed {
			return nil
		}
	}
	return agents.Errorf(agents.CodeInternal, "whole-share corrections did not settle after %d shares", maxTrims)
}
