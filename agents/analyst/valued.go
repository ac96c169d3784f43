package analyst

import (
	"github.com/dawsos/dawsos/agents"
	"github.com/google/uuid"
	"github.com/shopspring/decimal"
)

// ValuedPosition is a position priced with a pack, in its local currency
// and in the portfolio's base currency.
type ValuedPosition struct {
	Position
	Close         decimal.Decimal `json:"close"`
	PriceCurrency string          `json:"price_currency"`
	FXRate        decimal.Decimal `json:"fx_rate"`
	LocalValue    decimal.Decimal `json:"local_value"`
	MarketValue   decimal.Decimal `json:"market_value"`
	// UnrealizedPL is in the base currency: the local gain translated at
	// the pack's rate (the cost's own historical rate is not applied).
	// Null when the close is quoted in another currency than the lots'
	// cost, since the two cannot be subtracted.
	UnrealizedPL *decimal.Decimal `json:"unrealized_pl"`
	// UnrealizedPLLocal is the gain in the trading currency; null as above.
	UnrealizedPLLocal *decimal.Decimal `json:"unrealized_pl_local"`
	Weight            decimal.Decimal  `json:"weight"`
}

// CashLine is the cash of one currency.
type CashLine struct {
	Currency  string          `json:"currency"`
	Amount    decimal.Decimal `json:"amount"`
	FXRate    decimal.Decimal `json:"fx_rate"`
	BaseValue decimal.Decimal `json:"base_value"`
}

// ValuedPositionsOutput is a valued portfolio.
type ValuedPositionsOutput struct {
	PortfolioID    uuid.UUID         `json:"portfolio_id"`
	PricingPackID  string            `json:"pricing_pack_id"`
	AsOfDate       string            `json:"asof_date"`
	BaseCurrency   string            `json:"base_currency"`
	Positions      []ValuedPosition  `json:"positions"`
	Cash           []CashLine        `json:"cash"`
	PositionsValue decimal.Decimal   `json:"positions_value"`
	CashValue      decimal.Decimal   `json:"cash_value"`
	TotalValue     decimal.Decimal   `json:"total_value"`
	Provenance     agents.Provenance `json:"provenance"`
}

// valuationConvention states how every valued position is computed.
const valuationConvention = "market value = quantity × close × rate(close currency → base) with the pack's closes and rates; " +
	"weight = market value / total_value, a decimal; unrealised P&L is the local gain at the pack's rate"

// weightScale is the number of decimals weights are rounded to.
const weightScale = 10
