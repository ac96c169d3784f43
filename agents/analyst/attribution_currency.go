package analyst

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/quant"
	"github.com/dawsos/dawsos/storage"
)

func (a *Analyst) attributionCurrency() agents.Def {
	return agents.Write(agents.Meta{
		Name: "attribution.currency",
		Description: "Splits the base-currency return of the positions held through the last lookback_days trading days into " +
			"local price, currency and interaction effects, per position, per currency and for the portfolio (weights: " +
			"start-of-window base values), checked to add up within 0.1 bp; upserts currency_attribution.",
		Reads:  []string{"portfolios", "lots", "transactions", "securities", "pricing_packs", "prices", "fx_rates"},
		Writes: []string{"currency_attribution"},
		Codes: []string{agents.CodeNotFound, agents.CodeInsufficientData, agents.CodeMissingPrice, agents.CodeMissingFX,
			agents.CodePricingPackWarming},
	}, a.AttributionCurrency)
}

// CurrencyAttributionInput names the portfolio, the pack the window ends
// on and its length.
type CurrencyAttributionInput struct {
	PortfolioID   uuid.UUID `json:"portfolio_id" doc:"The portfolio."`
	PricingPackID string    `json:"pricing_pack_id" jsonschema:"minLength=1" doc:"The pack the window ends on, normally {{ctx.pricing_pack_id}}."`
	LookbackDays  int       `json:"lookback_days,omitempty" jsonschema:"minimum=1,maximum=2520,default=252" doc:"Trading days (fresh packs on weekdays) from the start pack to the end pack."`
	RequireFull   bool      `json:"require_full,omitempty" doc:"Fail with insufficient_data when fewer trading days precede the end pack, instead of starting at the first one."`
}

// CurrencyAttributionLine is one currency's contribution to the portfolio
// figures.
type CurrencyAttributionLine struct {
	Currency  string  `json:"currency"`
	Positions int     `json:"positions"`
	Weight    float64 `json:"weight" doc:"Share of the start value of the attributed positions."`
	// The currency's own rate move.
	FXRateStart    decimal.Decimal `json:"fx_rate_start" doc:"1 unit of the currency in the base currency at the start pack."`
	FXRateEnd      decimal.Decimal `json:"fx_rate_end"`
	CurrencyReturn float64         `json:"currency_return" doc:"fx_rate_end / fx_rate_start − 1 (0 for the base currency)."`
	// Weighted contributions; they sum over currencies to the portfolio's.
	Local       float64 `json:"local" doc:"Σ weight × local return of the currency's positions."`
	FX          float64 `json:"fx"`
	Interaction float64 `json:"interaction"`
	Total       float64 `json:"total"`
	ResidualBP  float64 `json:"residual_bp" doc:"total − (local + fx + interaction), in basis points."`
}

// PositionAttribution is one position's own (unweighted) attribution.
type PositionAttribution struct {
	SecurityID uuid.UUID `json:"security_id"`
	Symbol     string    `json:"symbol"`
	Currency   string    `json:"currency" doc:"The currency of its closes."`
	// Quantity held at the start, in end-of-window shares.
	Quantity    decimal.Decimal `json:"quantity" doc:"The quantity held at the start, in end-of-window shares (split-adjusted)."`
	SplitFactor decimal.Decimal `json:"split_factor" doc:"New shares per old of the splits inside the window (1 without one); start_close is divided by it."`
	StartClose  decimal.Decimal `json:"start_close" doc:"The start pack's close, split-adjusted."`
	EndClose    decimal.Decimal `json:"end_close"`
	FXRateStart decimal.Decimal `json:"fx_rate_start"`
	FXRateEnd   decimal.Decimal `json:"fx_rate_end"`
	StartValue  decimal.Decimal `json:"start_value" doc:"quantity × start_close × fx_rate_start, base currency."`
	Weight      float64         `json:"weight" doc:"start_value / the start value of the attributed positions."`
	Local       float64         `json:"local" doc:"end_close / start_close − 1."`
	FX          float64         `json:"fx" doc:"fx_rate_end / fx_rate_start − 1."`
	Interaction float64         `json:"interaction" doc:"local × fx."`
	Total       float64         `json:"total" doc:"(1 + local)(1 + fx) − 1."`
}

// ExcludedPosition is a position not held through the whole window.
type ExcludedPosition struct {
	SecurityID uuid.UUID `json:"security_id"`
	Symbol     string    `json:"symbol"`
	Reason     string    `json:"reason"`
}

// CurrencyAttributionOutput is the attribution of one window.
type CurrencyAttributionOutput struct {
	PortfolioID   uuid.UUID `json:"portfolio_id"`
	BaseCurrency  string    `json:"base_currency"`
	AsOfDate      string    `json:"asof_date" doc:"The row's as_of_date: the run's as-of date."`
	PricingPackID string    `json:"pricing_pack_id" doc:"The end pack (the row's pack)."`
	StartPackID   string    `json:"start_pack_id"`
	StartDate     string    `json:"start_date" doc:"The start pack's date (the row's start_date): the window runs from its close."`
	EndDate       string    `json:"end_date" doc:"The end pack's date."`
	LookbackDays  int       `json:"lookback_days" doc:"The trading days asked for."`
	Days          int       `json:"days" doc:"Trading days from start_date to end_date."`
	Complete      bool      `json:"complete" doc:"Whether days = lookback_days."`
	// Portfolio figures, weighted by start-of-window base value.
	LocalReturn       float64 `json:"local_return" doc:"Σ weight × local return."`
	FXReturn          float64 `json:"fx_return" doc:"Σ weight × currency return."`
	InteractionReturn float64 `json:"interaction_return" doc:"Σ weight × local × fx."`
	TotalReturn       float64 `json:"total_return" doc:"Σ end value / Σ start value − 1 of the attributed positions, computed directly."`
	ResidualBP        float64 `json:"residual_bp" doc:"total_return − (local + fx + interaction), in basis points; checked to be within tolerance_bp."`
	ToleranceBP       float64 `json:"tolerance_bp" doc:"The largest residual allowed (0.1 bp)."`
	// Money of the attributed positions, base currency.
	StartValue decimal.Decimal           `json:"start_value" doc:"Σ start_value of the attributed positions."`
	EndValue   decimal.Decimal           `json:"end_value" doc:"Σ quantity × end_close × fx_rate_end."`
	ByCurrency []CurrencyAttributionLine `json:"by_currency" doc:"Per currency of the closes, by currency code."`
	Positions  []PositionAttribution     `json:"positions" doc:"The attributed positions, by symbol."`
	Excluded   []ExcludedPosition        `json:"excluded" doc:"Positions held at the start or at the end but not through the whole window, by symbol."`
	Treatment  string                    `json:"treatment" doc:"Which positions the attribution covers."`
	Provenance agents.Provenance         `json:"provenance"`
}

const attributionTreatment = "positions held from the start pack's close to the end pack's close without being sold out in " +
	"between, at the quantity held at the start (buy and hold; trades inside the window change no weight), split-adjusted; " +
	"positions opened or sold out inside the window are listed in excluded and not attributed; cash is not attributed"

// AttributionCurrency implements attribution.currency.
func (a *Analyst) AttributionCurrency(ctx context.Context, c *agents.Call, in CurrencyAttributionInput) (CurrencyAttributionOutput, error) {
	out := CurrencyAttributionOutput{PortfolioID: in.PortfolioID, PricingPackID: in.PricingPackID, LookbackDays: in.LookbackDays,
		ToleranceBP: quant.AttributionTolerance * 1e4, ByCurrency: []CurrencyAttributionLine{}, Positions: []PositionAttribution{},
		Excluded: []ExcludedPosition{}, Treatment: attributionTreatment}
	asOf, err := c.AsOfOrToday(a.deps.Now)
	if err != nil {
		return out, err
	}
	out.AsOfDate = day(asOf)
	p, err := storage.GetPortfolio(ctx, c.DB, in.PortfolioID)
	if err != nil {
		return out, fmt.Errorf("currency attribution: %w", err)
	}
	out.BaseCurrency = p.BaseCurrency
	end, err := agents.ValuationPack(ctx, c.DB, in.PricingPackID, asOf)
	if err != nil {
		return out, err
	}
	before, err := storage.TradingPacks(ctx, c.DB, end.Date.AddDate(0, 0, -1), in.LookbackDays)
	if err != nil {
		return out, err
	}
	out.Days, out.Complete = len(before), len(before) >= in.LookbackDays
	if len(before) < minReturns(in.RequireFull, in.LookbackDays, 1) {
		return out, agents.InsufficientData(fmt.Sprintf("trading days before pack %s", end.ID), len(before), minReturns(in.RequireFull, in.LookbackDays, 1))
	}
	start := before[0]
	out.StartPackID, out.StartDate, out.EndDate = start.ID, day(start.Date), day(end.Date)

	held, err := heldThrough(ctx, c.DB, p.ID, start, end)
	if err != nil {
		return out, err
	}
	out.Excluded = append(out.Excluded, held.excluded...)
	if len(held.positions) == 0 {
		return out, agents.Errorf(agents.CodeInsufficientData,
			"currency attribution of portfolio %s from %s to %s: no position is held through the window (%d opened or sold out inside it)",
			p.ID, out.StartDate, out.EndDate, len(held.excluded))
	}
	ids := make([]uuid.UUID, len(held.positions))
	for i, h := range held.positions {
		ids[i] = h.pos.SecurityID
	}
	p0, err := storage.PricesInPack(ctx, c.DB, start.ID, ids)
	if err != nil {
		return out, fmt.Errorf("currency attribution from %s: %w", out.StartDate, err)
	}
	p1, err := storage.PricesInPack(ctx, c.DB, end.ID, ids)
	if err != nil {
		return out, fmt.Errorf("currency attribution to %s: %w", out.EndDate, err)
	}
	rate := func(pack storage.Pack, ccy string) (decimal.Decimal, error) {
		r, err := storage.FXRate(ctx, c.DB, pack.ID, ccy, p.BaseCurrency)
		if err != nil {
			return r, fmt.Errorf("currency attribution of portfolio %s: %w", p.ID, err)
		}
		return r, nil
	}
	var holdings []quant.FXHolding
	for _, h := range held.positions {
		sec := h.pos.SecurityID
		a0, a1 := p0[sec], p1[sec]
		if a0.Currency != a1.Currency {
			out.Excluded = append(out.Excluded, ExcludedPosition{SecurityID: sec, Symbol: h.pos.Symbol,
				Reason: fmt.Sprintf("quoted in %s at the start and in %s at the end", a0.Currency, a1.Currency)})
			continue
		}
		x0, err := rate(start, a0.Currency)
		if err != nil {
			return out, err
		}
		x1, err := rate(end, a1.Currency)
		if err != nil {
			return out, err
		}
		pa := PositionAttribution{SecurityID: sec, Symbol: h.pos.Symbol, Currency: a0.Currency,
			Quantity: h.pos.Quantity.Mul(h.split), SplitFactor: h.split, StartClose: a0.Close.DivRound(h.split, 10),
			EndClose: a1.Close, FXRateStart: x0, FXRateEnd: x1}
		pa.StartValue = h.pos.Quantity.Mul(a0.Close).Mul(x0)
		out.StartValue = out.StartValue.Add(pa.StartValue)
		out.EndValue = out.EndValue.Add(pa.Quantity.Mul(a1.Close).Mul(x1))
		out.Positions = append(out.Positions, pa)
		holdings = append(holdings, quant.FXHolding{ID: sec.String(), Currency: a0.Currency, Quantity: pa.Quantity.InexactFloat64(),
			P0: pa.StartClose.InexactFloat64(), P1: a1.Close.InexactFloat64(), X0: x0.InexactFloat64(), X1: x1.InexactFloat64()})
	}
	if len(holdings) == 0 {
		return out, agents.Errorf(agents.CodeInsufficientData, "currency attribution of portfolio %s from %s to %s: no position can be attributed",
			p.ID, out.StartDate, out.EndDate)
	}
	att, err := quant.AttributeCurrency(holdings)
	if err != nil {
		return out, fmt.Errorf("currency attribution of portfolio %s from %s to %s: %w", p.ID, out.StartDate, out.EndDate, err)
	}
	for i, h := range att.Positions {
		pa := &out.Positions[i]
		pa.Weight, pa.Local, pa.FX, pa.Interaction, pa.Total = h.Weight, h.Local, h.FX, h.Interaction, h.Total
	}
	pf := att.Portfolio
	out.LocalReturn, out.FXReturn, out.InteractionReturn, out.TotalReturn, out.ResidualBP = pf.Local, pf.FX, pf.Interaction, pf.Total, pf.ResidualBP
	lines := map[string]*CurrencyAttributionLine{}
	for _, pa := range out.Positions {
		l, ok := lines[pa.Currency]
		if !ok {
			ca := att.ByCurrency[pa.Currency]
			l = &CurrencyAttributionLine{Currency: pa.Currency, FXRateStart: pa.FXRateStart, FXRateEnd: pa.FXRateEnd,
				CurrencyReturn: pa.FX, Local: ca.Local, FX: ca.FX, Interaction: ca.Interaction, Total: ca.Total, ResidualBP: ca.ResidualBP}
			lines[pa.Currency] = l
		}
		l.Positions++
		l.Weight += pa.Weight
	}
	byCurrency := map[string]CurrencyAttributionLine{}
	for k, l := range lines {
		out.ByCurrency = append(out.ByCurrency, *l)
		byCurrency[k] = *l
	}
	sort.Slice(out.ByCurrency, func(i, j int) bool { return out.ByCurrency[i].Currency < out.ByCurrency[j].Currency })
	sort.Slice(out.Excluded, func(i, j int) bool { return out.Excluded[i].Symbol < out.Excluded[j].Symbol })
	by, err := json.Marshal(byCurrency)
	if err != nil {
		return out, agents.Wrap(agents.CodeInternal, err, "encode currency attribution by currency")
	}
	if err := storage.UpsertCurrencyAttribution(ctx, c.DB, storage.CurrencyAttributionRow{PortfolioID: p.ID, AsOf: asOf, PackID: end.ID,
		Start: start.Date, Local: pf.Local, FX: pf.FX, Interaction: pf.Interaction, Total: pf.Total, ResidualBP: pf.ResidualBP,
		ByCurrency: by}); err != nil {
		return out, err
	}
	out.Provenance = c.ProvenanceAt(end.ID, asOf, fmt.Sprintf("quant.AttributeCurrency over the closes and FX rates of packs %s and %s; upserted into currency_attribution",
		start.ID, end.ID), "r_local = P1/P0 − 1, r_fx = X1/X0 − 1 (0 in the base currency), interaction = r_local·r_fx, "+
		"total = (1+r_local)(1+r_fx) − 1; portfolio figures weight positions by start-of-window base value; residual checked within 0.1 bp")
	return out, nil
}

// windowHolding is a position held through a window.
type windowHolding struct {
	pos   storage.Position // at the start
	split decimal.Decimal  // new shares per old of the splits inside
}

type windowHoldings struct {
	positions []windowHolding
	excluded  []ExcludedPosition
}

// heldThrough finds the positions held from the close of start to the
// close of end: held at the start and never sold out in between, walking
// the window's transactions of each security.
func heldThrough(ctx context.Context, q storage.Querier, portfolioID uuid.UUID, start, end storage.Pack) (windowHoldings, error) {
	var out windowHoldings
	at0, err := storage.OpenPositions(ctx, q, portfolioID, start.Date)
	if err != nil {
		return out, fmt.Errorf("positions of portfolio %s on %s: %w", portfolioID, day(start.Date), err)
	}
	at1, err := storage.OpenPositions(ctx, q, portfolioID, end.Date)
	if err != nil {
		return out, fmt.Errorf("positions of portfolio %s on %s: %w", portfolioID, day(end.Date), err)
	}
	txs, err := storage.ListTransactions(ctx, q, portfolioID, storage.TransactionFilter{From: start.Date.AddDate(0, 0, 1), To: end.Date})
	if err != nil {
		return out, err
	}
	bySec := map[uuid.UUID][]storage.Transaction{}
	for _, t := range txs {
		if t.SecurityID != uuid.Nil {
			bySec[t.SecurityID] = append(bySec[t.SecurityID], t)
		}
	}
	atStart := map[uuid.UUID]bool{}
	for _, p := range at0 {
		atStart[p.SecurityID] = true
		qty, split := p.Quantity, decimal.NewFromInt(1)
		closed := ""
		for _, t := range bySec[p.SecurityID] {
			switch t.Type {
			case storage.TxBuy, storage.TxTransferIn:
				qty = qty.Add(t.Quantity)
			case storage.TxSell, storage.TxTransferOut:
				qty = qty.Sub(t.Quantity)
			case storage.TxSplit:
				qty, split = qty.Mul(t.SplitRatio), split.Mul(t.SplitRatio)
			}
			if qty.Sign() <= 0 && closed == "" {
				closed = day(t.TradeDate)
			}
		}
		if closed != "" {
			out.excluded = append(out.excluded, ExcludedPosition{SecurityID: p.SecurityID, Symbol: p.Symbol,
				Reason: "sold out inside the window on " + closed})
			continue
		}
		out.positions = append(out.positions, windowHolding{pos: p, split: split})
	}
	for _, p := range at1 {
		if !atStart[p.SecurityID] {
			out.excluded = append(out.excluded, ExcludedPosition{SecurityID: p.SecurityID, Symbol: p.Symbol,
				Reason: "opened inside the window on " + day(firstBuy(bySec[p.SecurityID], p))})
		}
	}
	return out, nil
}

// firstBuy is the date of the window's first acquisition of a position
// opened inside it.
func firstBuy(txs []storage.Transaction, p storage.Position) time.Time {
	for _, t := range txs {
		if t.Type == storage.TxBuy || t.Type == storage.TxTransferIn {
			return t.TradeDate
		}
	}
	return p.FirstAcquired
}
