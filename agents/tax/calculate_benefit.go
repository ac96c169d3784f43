package tax

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/dawsos/dawsos/agents"
)

func (a *Tax) calculateBenefit() agents.Def {
	return agents.Compute(agents.Meta{
		Name: "tax.calculate_benefit",
		Description: "The tax benefit of harvesting candidate losses (the output of tax.identify_losses, passed whole): loss × rate, " +
			"short- and long-term parts at their own rates (each defaults to tax_rate).",
	}, a.CalculateBenefit)
}

// BenefitLosses is what the benefit reads of tax.identify_losses.
type BenefitLosses struct {
	BaseCurrency string             `json:"base_currency"`
	Candidates   []BenefitCandidate `json:"candidates"`
}

// BenefitCandidate is what the benefit reads of one candidate.
type BenefitCandidate struct {
	SecurityID    uuid.UUID       `json:"security_id"`
	Symbol        string          `json:"symbol"`
	LotIDs        []uuid.UUID     `json:"lot_ids"`
	Term          string          `json:"term"`
	Loss          decimal.Decimal `json:"loss" doc:"Positive, base currency."`
	ShortTermLoss decimal.Decimal `json:"short_term_loss"`
	LongTermLoss  decimal.Decimal `json:"long_term_loss"`
}

// CalculateBenefitInput takes the candidates and the rates.
type CalculateBenefitInput struct {
	Losses        BenefitLosses       `json:"losses" doc:"The output of tax.identify_losses, passed whole."`
	TaxRate       decimal.NullDecimal `json:"tax_rate,omitempty" doc:"The rate of both terms unless short_term_rate or long_term_rate is given; a decimal (0.32 = 32 %)."`
	ShortTermRate decimal.NullDecimal `json:"short_term_rate,omitempty" doc:"The rate of short-term losses; tax_rate when absent."`
	LongTermRate  decimal.NullDecimal `json:"long_term_rate,omitempty" doc:"The rate of long-term losses; tax_rate when absent."`
}

// Validate: each term needs a rate, and rates are fractions in [0, 1].
func (in CalculateBenefitInput) Validate() error {
	for _, r := range []struct {
		field string
		v     decimal.NullDecimal
	}{{"tax_rate", in.TaxRate}, {"short_term_rate", in.ShortTermRate}, {"long_term_rate", in.LongTermRate}} {
		if r.v.Valid && (r.v.Decimal.IsNegative() || r.v.Decimal.GreaterThan(decimal.NewFromInt(1))) {
			return agents.FieldError(r.field, "%s %s is not a decimal fraction between 0 and 1", r.field, r.v.Decimal)
		}
	}
	if !in.TaxRate.Valid && (!in.ShortTermRate.Valid || !in.LongTermRate.Valid) {
		return agents.FieldError("tax_rate", "give tax_rate, or both short_term_rate and long_term_rate")
	}
	for i, c := range in.Losses.Candidates {
		if c.Loss.IsNegative() || c.ShortTermLoss.IsNegative() || c.LongTermLoss.IsNegative() {
			return agents.FieldError(fmt.Sprintf("losses.candidates[%d]", i), "losses are positive amounts; %s has %s (short %s, long %s)",
				c.Symbol, c.Loss, c.ShortTermLoss, c.LongTermLoss)
		}
		if !c.ShortTermLoss.Add(c.LongTermLoss).Equal(c.Loss) {
			return agents.FieldError(fmt.Sprintf("losses.candidates[%d]", i), "%s: short_term_loss %s + long_term_loss %s is not loss %s",
				c.Symbol, c.ShortTermLoss, c.LongTermLoss, c.Loss)
		}
	}
	return nil
}

// Rates says which rates were applied and where each came from.
type Rates struct {
	ShortTerm       decimal.Decimal `json:"short_term"`
	ShortTermSource string          `json:"short_term_source" doc:"short_term_rate or tax_rate: the input the rate came from."`
	LongTerm        decimal.Decimal `json:"long_term"`
	LongTermSource  string          `json:"long_term_source"`
	Inputs          string          `json:"inputs" doc:"Which rate inputs exist and which were given."`
}

// Benefit is one candidate's benefit.
type Benefit struct {
	SecurityID       uuid.UUID       `json:"security_id"`
	Symbol           string          `json:"symbol"`
	LotIDs           []uuid.UUID     `json:"lot_ids"`
	Term             string          `json:"term"`
	Loss             decimal.Decimal `json:"loss"`
	ShortTermLoss    decimal.Decimal `json:"short_term_loss"`
	LongTermLoss     decimal.Decimal `json:"long_term_loss"`
	ShortTermRate    decimal.Decimal `json:"short_term_rate"`
	LongTermRate     decimal.Decimal `json:"long_term_rate"`
	ShortTermBenefit decimal.Decimal `json:"short_term_benefit" doc:"short_term_loss × short_term_rate."`
	LongTermBenefit  decimal.Decimal `json:"long_term_benefit" doc:"long_term_loss × long_term_rate."`
	Benefit          decimal.Decimal `json:"benefit" doc:"short_term_benefit + long_term_benefit, base currency."`
}

// CalculateBenefitOutput lists the benefits in the candidates' order.
type CalculateBenefitOutput struct {
	BaseCurrency     string            `json:"base_currency"`
	Rates            Rates             `json:"rates"`
	Benefits         []Benefit         `json:"benefits"`
	ShortTermLoss    decimal.Decimal   `json:"short_term_loss"`
	LongTermLoss     decimal.Decimal   `json:"long_term_loss"`
	ShortTermBenefit decimal.Decimal   `json:"short_term_benefit"`
	LongTermBenefit  decimal.Decimal   `json:"long_term_benefit"`
	TotalBenefit     decimal.Decimal   `json:"total_benefit"`
	Provenance       agents.Provenance `json:"provenance"`
}

// CalculateBenefit implements tax.calculate_benefit.
func (a *Tax) CalculateBenefit(_ context.Context, c *agents.Call, in CalculateBenefitInput) (CalculateBenefitOutput, error) {
	out := CalculateBenefitOutput{BaseCurrency: in.Losses.BaseCurrency, Benefits: []Benefit{}}
	pick := func(own decimal.NullDecimal, name string) (decimal.Decimal, string) {
		if own.Valid {
			return own.Decimal, name
		}
		return in.TaxRate.Decimal, "tax_rate"
	}
	r := &out.Rates
	r.ShortTerm, r.ShortTermSource = pick(in.ShortTermRate, "short_term_rate")
	r.LongTerm, r.LongTermSource = pick(in.LongTermRate, "long_term_rate")
	var given []string
	for _, g := range []struct {
		name string
		v    decimal.NullDecimal
	}{{"tax_rate", in.TaxRate}, {"short_term_rate", in.ShortTermRate}, {"long_term_rate", in.LongTermRate}} {
		if g.v.Valid {
			given = append(given, fmt.Sprintf("%s = %s", g.name, g.v.Decimal))
		}
	}
	r.Inputs = "rate inputs: tax_rate (both terms), short_term_rate, long_term_rate (each overrides tax_rate for its term); given: " + strings.Join(given, ", ")
	for _, cd := range in.Losses.Candidates {
		b := Benefit{SecurityID: cd.SecurityID, Symbol: cd.Symbol, LotIDs: append([]uuid.UUID{}, cd.LotIDs...), Term: cd.Term, Loss: cd.Loss,
			ShortTermLoss: cd.ShortTermLoss, LongTermLoss: cd.LongTermLoss, ShortTermRate: r.ShortTerm, LongTermRate: r.LongTerm,
			ShortTermBenefit: cd.ShortTermLoss.Mul(r.ShortTerm), LongTermBenefit: cd.LongTermLoss.Mul(r.LongTerm)}
		b.Benefit = b.ShortTermBenefit.Add(b.LongTermBenefit)
		out.Benefits = append(out.Benefits, b)
		out.ShortTermLoss, out.LongTermLoss = out.ShortTermLoss.Add(cd.ShortTermLoss), out.LongTermLoss.Add(cd.LongTermLoss)
		out.ShortTermBenefit, out.LongTermBenefit = out.ShortTermBenefit.Add(b.ShortTermBenefit), out.LongTermBenefit.Add(b.LongTermBenefit)
	}
	out.TotalBenefit = out.ShortTermBenefit.Add(out.LongTermBenefit)
	out.Provenance = c.Provenance("benefit = short-term loss × short-term rate + long-term loss × long-term rate, per candidate",
		"losses positive, base currency; rates decimal fractions; exact decimals, not rounded; the benefit of a loss the wash-sale rule disallows is deferred, not earned now (see tax.rank_opportunities)")
	return out, nil
}
