package harvester

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/storage"
)

func (a *Harvester) calculateImpact() agents.Def {
	return agents.Read(agents.Meta{
		Name: "corporate_actions.calculate_impact",
		Description: "What corporate actions do to held positions: dividend cash (split-adjusted shares × amount) in the base currency " +
			"at the pay-date rate, and the quantities after each split; actions of securities not held are left out.",
		Reads: []string{"pricing_packs", "fx_rates"},
		Codes: []string{agents.CodeMissingFX, agents.CodePricingPackWarming},
	}, a.CalculateImpact)
}

// HeldPosition is a held quantity (the positions of ledger.positions can
// be passed whole).
type HeldPosition struct {
	SecurityID uuid.UUID       `json:"security_id"`
	Symbol     string          `json:"symbol"`
	Quantity   decimal.Decimal `json:"quantity" doc:"Shares held at the as-of date."`
}

// ImpactAction is a corporate action (the actions of
// corporate_actions.upcoming can be passed whole).
type ImpactAction struct {
	SecurityID uuid.UUID           `json:"security_id"`
	Type       string              `json:"type" jsonschema:"enum=DIVIDEND|SPLIT|EARNINGS"`
	EventDate  string              `json:"event_date" jsonschema:"format=date"`
	PayDate    *string             `json:"pay_date,omitempty" jsonschema:"format=date"`
	Amount     decimal.NullDecimal `json:"amount,omitempty" doc:"Dividend per share."`
	Ratio      decimal.NullDecimal `json:"ratio,omitempty" doc:"New shares per old share."`
	Currency   string              `json:"currency,omitempty"`
}

// CalculateImpactInput is the holdings, the base currency and the actions.
type CalculateImpactInput struct {
	Positions    []HeldPosition `json:"positions"`
	BaseCurrency string         `json:"base_currency" jsonschema:"pattern=^[A-Z]{3}$" doc:"The portfolio's base currency."`
	Actions      []ImpactAction `json:"actions"`
}

// Validate checks what each action type needs.
func (in CalculateImpactInput) Validate() error {
	for i, x := range in.Actions {
		f := fmt.Sprintf("actions[%d]", i)
		switch x.Type {
		case storage.ActionDividend:
			if !x.Amount.Valid || !x.Amount.Decimal.IsPositive() {
				return agents.FieldError(f+".amount", "a dividend needs a positive amount per share")
			}
			if len(x.Currency) != 3 {
				return agents.FieldError(f+".currency", "a dividend needs its currency")
			}
		case storage.ActionSplit:
			if !x.Ratio.Valid || !x.Ratio.Decimal.IsPositive() {
				return agents.FieldError(f+".ratio", "a split needs a positive ratio")
			}
		}
	}
	return nil
}

// ActionImpact is one held action's effect.
type ActionImpact struct {
	SecurityID    uuid.UUID           `json:"security_id"`
	Symbol        string              `json:"symbol"`
	Type          string              `json:"type"`
	EventDate     string              `json:"event_date"`
	PayDate       *string             `json:"pay_date"`
	Quantity      decimal.Decimal     `json:"quantity" doc:"Shares held on the event date: the as-of holding adjusted by the listed splits dated after the as-of date and before this event."`
	QuantityAfter decimal.NullDecimal `json:"quantity_after" doc:"Shares after a split (quantity × ratio)."`
	Amount        decimal.NullDecimal `json:"amount"`
	Ratio         decimal.NullDecimal `json:"ratio"`
	Currency      string              `json:"currency"`
	CashLocal     decimal.NullDecimal `json:"cash_local" doc:"Dividend cash: quantity × amount, in currency."`
	FXRate        decimal.NullDecimal `json:"fx_rate" doc:"1 currency = fx_rate base currency."`
	FXPackID      string              `json:"fx_pack_id,omitempty" doc:"The pack the rate comes from: the newest fresh pack on or before the pay date (the ex-date when none is announced)."`
	FXEstimated   bool                `json:"fx_estimated" doc:"The pay date is after the as-of date: the rate is the as-of date's, the last known."`
	CashBase      decimal.NullDecimal `json:"cash_base" doc:"cash_local × fx_rate."`
}

// SplitQuantity is a held security's quantity before and after the listed
// splits.
type SplitQuantity struct {
	SecurityID     uuid.UUID       `json:"security_id"`
	Symbol         string          `json:"symbol"`
	QuantityBefore decimal.Decimal `json:"quantity_before"`
	QuantityAfter  decimal.Decimal `json:"quantity_after"`
}

// CalculateImpactOutput is the actions' effect on the holdings.
type CalculateImpactOutput struct {
	BaseCurrency      string                     `json:"base_currency"`
	Lines             []ActionImpact             `json:"lines" doc:"Held actions by event date."`
	DividendCashBase  decimal.Decimal            `json:"dividend_cash_base" doc:"Σ cash_base of the dividends."`
	DividendCashLocal map[string]decimal.Decimal `json:"dividend_cash_local" doc:"Σ cash_local by currency."`
	SplitAdjusted     []SplitQuantity            `json:"split_adjusted" doc:"Held securities with a listed split."`
	Earnings          int                        `json:"earnings" doc:"Earnings dates of held securities (no cash effect)."`
	NotHeld           int                        `json:"not_held" doc:"Actions of securities not among the positions, left out."`
	Provenance        agents.Provenance          `json:"provenance"`
}

// CalculateImpact implements corporate_actions.calculate_impact.
func (a *Harvester) CalculateImpact(ctx context.Context, c *agents.Call, in CalculateImpactInput) (CalculateImpactOutput, error) {
	asOf, err := a.asOfDate(c)
	if err != nil {
		return CalculateImpactOutput{}, err
	}
	out := CalculateImpactOutput{BaseCurrency: in.BaseCurrency, Lines: []ActionImpact{}, DividendCashLocal: map[string]decimal.Decimal{},
		SplitAdjusted: []SplitQuantity{}, DividendCashBase: decimal.Zero}
	out.Provenance = c.Provenance("held quantity × dividend per share, translated at the rate of the newest fresh pack on or before the pay date "+
		"(the as-of date's when the pay date is later); splits multiply the quantity by their ratio from their ex-date on",
		"1 currency = rate base; quantities as held at the as-of date, adjusted by the listed splits after the as-of date and before each event; "+
			"a split and a dividend on the same date: the dividend is on the pre-split quantity")
	type holding struct {
		symbol  string
		start   decimal.Decimal
		qty     decimal.Decimal
		splitOf bool
	}
	held := map[uuid.UUID]*holding{}
	var order []uuid.UUID
	for _, p := range in.Positions {
		h, ok := held[p.SecurityID]
		if !ok {
			h = &holding{symbol: p.Symbol}
			held[p.SecurityID] = h
			order = append(order, p.SecurityID)
		}
		h.start = h.start.Add(p.Quantity)
		h.qty = h.start
	}
	type dated struct {
		ImpactAction
		date time.Time
		pay  *time.Time
	}
	acts := make([]dated, 0, len(in.Actions))
	for i, x := range in.Actions {
		d, err := time.Parse(time.DateOnly, x.EventDate)
		if err != nil {
			return CalculateImpactOutput{}, agents.FieldError(fmt.Sprintf("actions[%d].event_date", i), "%q is not YYYY-MM-DD", x.EventDate)
		}
		var pay *time.Time
		if x.PayDate != nil && *x.PayDate != "" {
			p, err := time.Parse(time.DateOnly, *x.PayDate)
			if err != nil {
				return CalculateImpactOutput{}, agents.FieldError(fmt.Sprintf("actions[%d].pay_date", i), "%q is not YYYY-MM-DD", *x.PayDate)
			}
			pay = &p
		}
		acts = append(acts, dated{x, d, pay})
	}
	// By date; on one date dividends and earnings before splits, so a
	// dividend is on the pre-split quantity.
	rank := map[string]int{storage.ActionDividend: 0, storage.ActionEarnings: 1, storage.ActionSplit: 2}
	sort.SliceStable(acts, func(i, j int) bool {
		if !acts[i].date.Equal(acts[j].date) {
			return acts[i].date.Before(acts[j].date)
		}
		return rank[acts[i].Type] < rank[acts[j].Type]
	})
	packs := map[time.Time]storage.Pack{}
	for _, x := range acts {
		h, ok := held[x.SecurityID]
		if !ok {
			out.NotHeld++
			continue
		}
		line := ActionImpact{SecurityID: x.SecurityID, Symbol: h.symbol, Type: x.Type, EventDate: x.EventDate, PayDate: dateString(x.pay),
			Quantity: h.qty, Amount: x.Amount, Ratio: x.Ratio, Currency: x.Currency}
		switch x.Type {
		case storage.ActionSplit:
			after := h.qty.Mul(x.Ratio.Decimal)
			line.QuantityAfter = decimal.NewNullDecimal(after)
			if x.date.After(asOf) {
				// Splits on or before the as-of date are already in the
				// held quantity.
				h.qty, h.splitOf = after, true
			}
		case storage.ActionEarnings:
			out.Earnings++
		case storage.ActionDividend:
			cash := h.qty.Mul(x.Amount.Decimal)
			line.CashLocal = decimal.NewNullDecimal(cash)
			on := x.date
			if x.pay != nil {
				on = *x.pay
			}
			if on.After(asOf) {
				on, line.FXEstimated = asOf, true
			}
			pk, ok := packs[on]
			if !ok {
				if pk, err = storage.PackForDate(ctx, c.DB, on); err != nil {
					return CalculateImpactOutput{}, fmt.Errorf("rate for the %s dividend of %s paid %s: %w", x.Currency, h.symbol, on.Format(time.DateOnly), err)
				}
				packs[on] = pk
			}
			rate, err := storage.FXRate(ctx, c.DB, pk.ID, x.Currency, in.BaseCurrency)
			if err != nil {
				return CalculateImpactOutput{}, fmt.Errorf("dividend of %s paid %s: %w", h.symbol, on.Format(time.DateOnly), err)
			}
			line.FXRate, line.FXPackID = decimal.NewNullDecimal(rate), pk.ID
			line.CashBase = decimal.NewNullDecimal(cash.Mul(rate))
			out.DividendCashBase = out.DividendCashBase.Add(line.CashBase.Decimal)
			out.DividendCashLocal[x.Currency] = out.DividendCashLocal[x.Currency].Add(cash)
		}
		out.Lines = append(out.Lines, line)
	}
	for _, id := range order {
		if h := held[id]; h.splitOf {
			out.SplitAdjusted = append(out.SplitAdjusted, SplitQuantity{SecurityID: id, Symbol: h.symbol, QuantityBefore: h.start, QuantityAfter: h.qty})
		}
	}
	return out, nil
}
