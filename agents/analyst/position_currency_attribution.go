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

func (a *Analyst) positionCurrencyAttribution() agents.Def {
	return agents.Read(agents.Meta{
		Name: "position.compute_currency_attribution",
		Description: "Splits a held position's base-currency return over the last lookback_days pricing packs into the local " +
			"price return, the FX return and their interaction (DOMAIN.md §1), checking that the parts add to the total within 0.1 bp.",
		Reads: []string{"portfolios", "securities", "lots", "transactions", "pricing_packs", "prices", "fx_rates", "corporate_actions"},
		Codes: []string{agents.CodeNotFound, agents.CodeInsufficientData, agents.CodeMissingPrice, agents.CodeMissingFX, agents.CodePricingPackWarming},
	}, a.PositionCurrencyAttribution)
}

// PositionCurrencyAttributionOutput is one position's currency split.
type PositionCurrencyAttributionOutput struct {
	PortfolioID   uuid.UUID `json:"portfolio_id"`
	SecurityID    uuid.UUID `json:"security_id"`
	Symbol        string    `json:"symbol"`
	LocalCurrency string    `json:"local_currency"`
	BaseCurrency  string    `json:"base_currency"`
	StartDate     string    `json:"start_date"`
	EndDate       string    `json:"end_date"`
	Days          int       `json:"days"`

	StartClose  decimal.Decimal `json:"start_close"`
	EndClose    decimal.Decimal `json:"end_close"`
	SplitFactor decimal.Decimal `json:"split_factor" doc:"Split-adjusts the end close: P₁ = end_close × split_factor."`
	StartFXRate decimal.Decimal `json:"start_fx_rate"`
	EndFXRate   decimal.Decimal `json:"end_fx_rate"`

	Local       float64 `json:"local" doc:"P₁/P₀ − 1."`
	FX          float64 `json:"fx" doc:"X₁/X₀ − 1; 0 for a base-currency security."`
	Interaction float64 `json:"interaction" doc:"local × fx."`
	Total       float64 `json:"total" doc:"(1 + local)(1 + fx) − 1."`
	ResidualBP  float64 `json:"residual_bp" doc:"total − (local + fx + interaction), in basis points; checked to be within 0.1 bp."`
	// WithinTolerance is always true in an answer: a larger residual is an error.
	WithinTolerance bool              `json:"within_tolerance"`
	Provenance      agents.Provenance `json:"provenance"`
}

// PositionCurrencyAttribution implements position.compute_currency_attribution.
func (a *Analyst) PositionCurrencyAttribution(ctx context.Context, c *agents.Call, in PositionLookbackInput) (PositionCurrencyAttributionOutput, error) {
	pack, err := runPack(ctx, c)
	if err != nil {
		return PositionCurrencyAttributionOutput{}, err
	}
	h, err := heldPosition(ctx, c.DB, in.PortfolioID, in.SecurityID, pack.Date)
	if err != nil {
		return PositionCurrencyAttributionOutput{}, err
	}
	dates, err := windowDates(ctx, c.DB, pack.Date, in.LookbackDays)
	if err != nil {
		return PositionCurrencyAttributionOutput{}, err
	}
	us, err := loadUnitSeries(ctx, c.DB, in.PortfolioID, []storage.Security{h.Security}, h.Portfolio.BaseCurrency, dates)
	if err != nil {
		return PositionCurrencyAttributionOutput{}, err
	}
	u := us[h.Security.ID]
	n := len(dates) - 1
	split := u.SplitFactor(n)
	att, err := quant.PositionCurrencyAttribution(u.Closes[0].InexactFloat64(), u.Closes[n].Mul(split).InexactFloat64(),
		u.Rates[0].InexactFloat64(), u.Rates[n].InexactFloat64())
	if err != nil {
		return PositionCurrencyAttributionOutput{}, fmt.Errorf("currency attribution of %s: %w", h.Security.Symbol, err)
	}
	return PositionCurrencyAttributionOutput{
		PortfolioID: in.PortfolioID, SecurityID: in.SecurityID, Symbol: h.Security.Symbol, LocalCurrency: u.PriceCurrency,
		BaseCurrency: h.Portfolio.BaseCurrency, StartDate: dates[0].Format(time.DateOnly), EndDate: dates[n].Format(time.DateOnly), Days: n,
		StartClose: u.Closes[0], EndClose: u.Closes[n], SplitFactor: split, StartFXRate: u.Rates[0], EndFXRate: u.Rates[n],
		Local: att.Local, FX: att.FX, Interaction: att.Interaction, Total: att.Total, ResidualBP: att.ResidualBP, WithinTolerance: true,
		Provenance: c.Provenance("start and end of the window's pricing packs: split-adjusted closes in the price currency and the pack rates into the base currency",
			"local = P₁/P₀ − 1, fx = X₁/X₀ − 1, interaction = local·fx, total = (1+local)(1+fx) − 1; decimal fractions over the window, not annualised; residual in bp, at most 0.1"),
	}, nil
}
