package reports

import (
	"fmt"
	"strings"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/dawsos/dawsos/agents"
)

// The figures every capability of the agent renders: the outputs of
// earlier steps, passed whole. Only the fields read are declared (the
// schema lets the other fields of those outputs through), so a step can
// pass {{valued}} or {{twr}} as it is.

// Figures are the arguments the three capabilities share.
type Figures struct {
	Valued      ValuedFigures       `json:"valued" doc:"The output of portfolio.get_valued_positions: the cover, the holdings and the totals."`
	Sectors     *SectorFigures      `json:"sectors,omitempty" doc:"The output of portfolio.sector_allocation, for the allocation chart and table; without it the chart shows the positions' weights."`
	TWR         *TWRFigures         `json:"twr,omitempty" doc:"The output of metrics.compute_twr, for the performance section."`
	Attribution *AttributionFigures `json:"attribution,omitempty" doc:"The output of attribution.currency, for the currency attribution section."`
	NAV         *NAVFigures         `json:"nav,omitempty" doc:"The output of portfolio.historical_nav, for the NAV history chart and table."`
	Macro       map[string]any      `json:"macro,omitempty" doc:"The output of macro.detect_regime (any object): its regime, confidence and other top-level figures are printed as given."`
}

// ValuedFigures is what the reports read of portfolio.get_valued_positions.
type ValuedFigures struct {
	PortfolioID    uuid.UUID         `json:"portfolio_id"`
	PricingPackID  string            `json:"pricing_pack_id"`
	AsOfDate       string            `json:"asof_date"`
	BaseCurrency   string            `json:"base_currency"`
	Positions      []HoldingFigures  `json:"positions" jsonschema:"maxItems=5000"`
	Cash           []CashFigures     `json:"cash" jsonschema:"maxItems=200"`
	PositionsValue decimal.Decimal   `json:"positions_value"`
	CashValue      decimal.Decimal   `json:"cash_value"`
	TotalValue     decimal.Decimal   `json:"total_value"`
	Provenance     agents.Provenance `json:"provenance"`
}

// HoldingFigures is one valued position.
type HoldingFigures struct {
	Symbol        string           `json:"symbol"`
	Name          string           `json:"name"`
	Sector        string           `json:"sector"`
	Quantity      decimal.Decimal  `json:"quantity"`
	Close         decimal.Decimal  `json:"close"`
	PriceCurrency string           `json:"price_currency"`
	FXRate        decimal.Decimal  `json:"fx_rate"`
	MarketValue   decimal.Decimal  `json:"market_value"`
	Weight        decimal.Decimal  `json:"weight"`
	UnrealizedPL  *decimal.Decimal `json:"unrealized_pl,omitempty"`
}

// CashFigures is the cash of one currency.
type CashFigures struct {
	Currency  string          `json:"currency"`
	Amount    decimal.Decimal `json:"amount"`
	FXRate    decimal.Decimal `json:"fx_rate"`
	BaseValue decimal.Decimal `json:"base_value"`
}

// SectorFigures is what the reports read of portfolio.sector_allocation.
type SectorFigures struct {
	Sectors    []SectorLine    `json:"sectors" jsonschema:"maxItems=500"`
	TotalValue decimal.Decimal `json:"total_value"`
}

// SectorLine is one sector.
type SectorLine struct {
	Sector    string          `json:"sector"`
	Value     decimal.Decimal `json:"value"`
	Weight    decimal.Decimal `json:"weight"`
	Positions int             `json:"positions,omitempty"`
}

// TWRFigures is what the reports read of metrics.compute_twr.
type TWRFigures struct {
	PortfolioID  uuid.UUID          `json:"portfolio_id"`
	TWR          float64            `json:"twr"`
	Annualized   bool               `json:"annualized"`
	TotalReturn  float64            `json:"total_return"`
	LookbackDays int                `json:"lookback_days,omitempty"`
	Days         int                `json:"days"`
	StartDate    string             `json:"start_date"`
	EndDate      string             `json:"end_date"`
	Series       []TWRPoint         `json:"series,omitempty" jsonschema:"maxItems=2520"`
	Provenance   *agents.Provenance `json:"provenance,omitempty"`
}

// TWRPoint is one day of the TWR series.
type TWRPoint struct {
	Date       string  `json:"date"`
	Return     float64 `json:"return"`
	Cumulative float64 `json:"cumulative"`
}

// AttributionFigures is what the reports read of attribution.currency.
type AttributionFigures struct {
	PortfolioID       uuid.UUID             `json:"portfolio_id"`
	BaseCurrency      string                `json:"base_currency"`
	StartDate         string                `json:"start_date"`
	EndDate           string                `json:"end_date"`
	Days              int                   `json:"days"`
	LocalReturn       float64               `json:"local_return"`
	FXReturn          float64               `json:"fx_return"`
	InteractionReturn float64               `json:"interaction_return"`
	TotalReturn       float64               `json:"total_return"`
	ResidualBP        float64               `json:"residual_bp"`
	ByCurrency        []AttributionCurrency `json:"by_currency" jsonschema:"maxItems=200"`
	Positions         []AttributionPosition `json:"positions,omitempty" jsonschema:"maxItems=5000"`
	Excluded          []ExcludedFigure      `json:"excluded,omitempty" jsonschema:"maxItems=5000"`
	Provenance        *agents.Provenance    `json:"provenance,omitempty"`
}

// AttributionCurrency is one currency's contribution.
type AttributionCurrency struct {
	Currency       string  `json:"currency"`
	Positions      int     `json:"positions"`
	Weight         float64 `json:"weight"`
	CurrencyReturn float64 `json:"currency_return"`
	Local          float64 `json:"local"`
	FX             float64 `json:"fx"`
	Interaction    float64 `json:"interaction"`
	Total          float64 `json:"total"`
}

// AttributionPosition is one position's own attribution.
type AttributionPosition struct {
	Symbol      string  `json:"symbol"`
	Currency    string  `json:"currency"`
	Weight      float64 `json:"weight"`
	Local       float64 `json:"local"`
	FX          float64 `json:"fx"`
	Interaction float64 `json:"interaction"`
	Total       float64 `json:"total"`
}

// ExcludedFigure is a position the attribution left out.
type ExcludedFigure struct {
	Symbol string `json:"symbol"`
	Reason string `json:"reason"`
}

// NAVFigures is what the reports read of portfolio.historical_nav.
type NAVFigures struct {
	PortfolioID  uuid.UUID          `json:"portfolio_id"`
	BaseCurrency string             `json:"base_currency"`
	Values       []NAVPoint         `json:"values" jsonschema:"maxItems=2521"`
	Provenance   *agents.Provenance `json:"provenance,omitempty"`
}

// NAVPoint is one valued day.
type NAVPoint struct {
	Date            string           `json:"date"`
	TotalValue      decimal.Decimal  `json:"total_value"`
	CashValue       *decimal.Decimal `json:"cash_value,omitempty"`
	PositionsValue  *decimal.Decimal `json:"positions_value,omitempty"`
	NetExternalFlow *decimal.Decimal `json:"net_external_flow,omitempty"`
}

// check refuses figures of different portfolios or currencies: a report
// that mixed them would print numbers that belong together nowhere.
func (f Figures) check() error {
	v := f.Valued
	same := func(field string, id uuid.UUID) error {
		if id != v.PortfolioID {
			return agents.FieldError(field, "%s is of portfolio %s, the holdings (valued) of portfolio %s", field, id, v.PortfolioID)
		}
		return nil
	}
	if f.TWR != nil {
		if err := same("twr.portfolio_id", f.TWR.PortfolioID); err != nil {
			return err
		}
	}
	if a := f.Attribution; a != nil {
		if err := same("attribution.portfolio_id", a.PortfolioID); err != nil {
			return err
		}
		if a.BaseCurrency != v.BaseCurrency {
			return agents.FieldError("attribution.base_currency", "attribution is in %s, the holdings in %s", a.BaseCurrency, v.BaseCurrency)
		}
	}
	if n := f.NAV; n != nil {
		if err := same("nav.portfolio_id", n.PortfolioID); err != nil {
			return err
		}
		if n.BaseCurrency != v.BaseCurrency {
			return agents.FieldError("nav.base_currency", "the NAV history is in %s, the holdings in %s", n.BaseCurrency, v.BaseCurrency)
		}
	}
	if s := f.Sectors; s != nil && !s.TotalValue.Equal(v.TotalValue) {
		return agents.FieldError("sectors.total_value", "the allocation is of a total of %s, the holdings of %s", s.TotalValue, v.TotalValue)
	}
	return nil
}

// sourceLine is one provider attribution line: which step computed a
// section, how, and from what data.
type sourceLine struct {
	Section    string
	Capability string
	Provenance agents.Provenance
}

// sources lists the provenance of every section given, in report order.
func (f Figures) sources() []sourceLine {
	out := []sourceLine{{"Holdings", "portfolio.get_valued_positions", f.Valued.Provenance}}
	add := func(section, capability string, p *agents.Provenance) {
		if p != nil {
			out = append(out, sourceLine{section, capability, *p})
		}
	}
	if f.TWR != nil {
		add("Performance", "metrics.compute_twr", orEmpty(f.TWR.Provenance))
	}
	if f.NAV != nil {
		add("NAV history", "portfolio.historical_nav", orEmpty(f.NAV.Provenance))
	}
	if f.Attribution != nil {
		add("Currency attribution", "attribution.currency", orEmpty(f.Attribution.Provenance))
	}
	if f.Macro != nil {
		add("Macro regime", "macro.detect_regime", macroProvenance(f.Macro))
	}
	return out
}

func orEmpty(p *agents.Provenance) *agents.Provenance {
	if p == nil {
		return &agents.Provenance{}
	}
	return p
}

// macroProvenance reads the provenance object of a generic macro output.
func macroProvenance(m map[string]any) *agents.Provenance {
	p := &agents.Provenance{}
	pm, _ := m["provenance"].(map[string]any)
	str := func(k string) string {
		s, _ := pm[k].(string)
		return s
	}
	p.PricingPackID, p.AsOfDate, p.LedgerCommitHash = str("pricing_pack_id"), str("asof_date"), str("ledger_commit_hash")
	p.Method, p.Convention, p.Source = str("method"), str("convention"), str("source")
	return p
}

// describe renders a provenance record as the words of a sources line.
func describe(s sourceLine, packPolicy string) string {
	p := s.Provenance
	text := s.Section + ": computed by " + s.Capability
	if p.Method != "" {
		text += " (" + p.Method + ")"
	}
	text += "."
	if p.Convention != "" {
		text += " Convention: " + p.Convention + "."
	}
	var data []string
	if p.PricingPackID != "" {
		pack := "pricing pack " + p.PricingPackID
		if packPolicy != "" {
			pack += fmt.Sprintf(" (%s)", packPolicy)
		}
		data = append(data, pack)
	}
	if p.AsOfDate != "" {
		data = append(data, "as of "+p.AsOfDate)
	}
	if p.LedgerCommitHash != "" {
		data = append(data, "ledger "+short(p.LedgerCommitHash))
	}
	if len(data) > 0 {
		text += " Data: " + strings.Join(data, ", ") + "."
	}
	if p.Source != "" {
		text += " Source: " + p.Source + "."
	}
	return text
}

func short(h string) string {
	if len(h) > 16 {
		return h[:16]
	}
	return h
}
