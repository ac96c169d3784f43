package tax

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/dawsos/dawsos/agents"
)

func (a *Tax) rankOpportunities() agents.Def {
	return agents.Compute(agents.Meta{
		Name: "tax.rank_opportunities",
		Description: "Ranks harvesting candidates by the benefit earned now (tax.calculate_benefit's output, passed whole), excluding wash-sale " +
			"conflicts (tax.wash_sale_check's output) or flagging them with the benefit they defer, with a reason per candidate.",
	}, a.RankOpportunities)
}

// RankBenefits is what the ranking reads of tax.calculate_benefit.
type RankBenefits struct {
	BaseCurrency string        `json:"base_currency"`
	Benefits     []RankBenefit `json:"benefits"`
}

// RankBenefit is what the ranking reads of one benefit.
type RankBenefit struct {
	SecurityID    uuid.UUID       `json:"security_id"`
	Symbol        string          `json:"symbol"`
	LotIDs        []uuid.UUID     `json:"lot_ids"`
	Term          string          `json:"term"`
	Loss          decimal.Decimal `json:"loss"`
	ShortTermRate decimal.Decimal `json:"short_term_rate"`
	LongTermRate  decimal.Decimal `json:"long_term_rate"`
	Benefit       decimal.Decimal `json:"benefit"`
}

// RankChecks is what the ranking reads of tax.wash_sale_check.
type RankChecks struct {
	Checks []RankCheck `json:"checks"`
}

// RankCheck is what the ranking reads of one check.
type RankCheck struct {
	SecurityID              uuid.UUID       `json:"security_id"`
	LotIDs                  []uuid.UUID     `json:"lot_ids"`
	WashSale                bool            `json:"wash_sale"`
	DisallowedBase          decimal.Decimal `json:"disallowed_base"`
	DisallowedShortTermBase decimal.Decimal `json:"disallowed_short_term_base"`
	DisallowedLongTermBase  decimal.Decimal `json:"disallowed_long_term_base"`
	WindowEnd               string          `json:"window_end"`
	Reason                  string          `json:"reason"`
}

// RankOpportunitiesInput takes the benefits and, optionally, the checks.
type RankOpportunitiesInput struct {
	Benefits       RankBenefits `json:"benefits" doc:"The output of tax.calculate_benefit, passed whole."`
	WashChecks     *RankChecks  `json:"wash_checks,omitempty" doc:"The output of tax.wash_sale_check over the same candidates, passed whole; without it no candidate is checked."`
	AvoidWashSales bool         `json:"avoid_wash_sales,omitempty" jsonschema:"default=true" doc:"Exclude candidates that would be wash sales (true) or rank them flagged, by the benefit earned now (false)."`
	Limit          int          `json:"limit,omitempty" jsonschema:"minimum=1,maximum=10000" doc:"At most this many opportunities; all when absent."`
}

// Opportunity is one ranked (or excluded) candidate.
type Opportunity struct {
	Rank            int             `json:"rank" doc:"1 is the best; 0 when excluded."`
	SecurityID      uuid.UUID       `json:"security_id"`
	Symbol          string          `json:"symbol"`
	LotIDs          []uuid.UUID     `json:"lot_ids"`
	Term            string          `json:"term"`
	Loss            decimal.Decimal `json:"loss" doc:"Base currency, positive."`
	Benefit         decimal.Decimal `json:"benefit" doc:"The benefit if the whole loss were allowed."`
	WashChecked     bool            `json:"wash_checked" doc:"A wash-sale check covers this candidate."`
	WashSale        bool            `json:"wash_sale"`
	DisallowedLoss  decimal.Decimal `json:"disallowed_loss" doc:"Base currency."`
	BenefitNow      decimal.Decimal `json:"benefit_now" doc:"benefit − the disallowed loss at its term's rate: what harvesting earns now."`
	DeferredBenefit decimal.Decimal `json:"deferred_benefit" doc:"The disallowed loss at its rate: added to the replacement's basis, earned when it is sold."`
	Reason          string          `json:"reason"`
}

// RankOpportunitiesOutput is the ranking.
type RankOpportunitiesOutput struct {
	BaseCurrency    string            `json:"base_currency"`
	AvoidWashSales  bool              `json:"avoid_wash_sales"`
	Opportunities   []Opportunity     `json:"opportunities" doc:"By benefit_now, largest first."`
	Excluded        []Opportunity     `json:"excluded" doc:"Wash-sale conflicts left out (avoid_wash_sales) and candidates past the limit."`
	TotalBenefitNow decimal.Decimal   `json:"total_benefit_now" doc:"Σ benefit_now of the opportunities."`
	Provenance      agents.Provenance `json:"provenance"`
}

// sameLots says whether a check is about a candidate: the same security and
// the same named lots.
func sameLots(a, b []uuid.UUID) bool {
	x, y := slices.Clone(a), slices.Clone(b)
	cmp := func(p, q uuid.UUID) int { return strings.Compare(p.String(), q.String()) }
	slices.SortFunc(x, cmp)
	slices.SortFunc(y, cmp)
	return slices.Equal(x, y)
}

// RankOpportunities implements tax.rank_opportunities.
func (a *Tax) RankOpportunities(_ context.Context, c *agents.Call, in RankOpportunitiesInput) (RankOpportunitiesOutput, error) {
	out := RankOpportunitiesOutput{BaseCurrency: in.Benefits.BaseCurrency, AvoidWashSales: in.AvoidWashSales,
		Opportunities: []Opportunity{}, Excluded: []Opportunity{}}
	var all []Opportunity
	for i, b := range in.Benefits.Benefits {
		o := Opportunity{SecurityID: b.SecurityID, Symbol: b.Symbol, LotIDs: append([]uuid.UUID{}, b.LotIDs...), Term: b.Term,
			Loss: b.Loss, Benefit: b.Benefit, BenefitNow: b.Benefit}
		what := fmt.Sprintf("%s %s loss of %s at %s", b.Term, b.Symbol, b.Loss, rateText(b))
		var chk *RankCheck
		if in.WashChecks != nil {
			for j := range in.WashChecks.Checks {
				k := &in.WashChecks.Checks[j]
				if k.SecurityID == b.SecurityID && sameLots(k.LotIDs, b.LotIDs) {
					chk = k
					break
				}
			}
		}
		switch {
		case chk == nil && in.WashChecks == nil:
			o.Reason = fmt.Sprintf("%s: benefit %s; not checked for wash sales", what, b.Benefit)
		case chk == nil:
			return out, agents.FieldError(fmt.Sprintf("benefits.benefits[%d]", i), "no wash-sale check covers %s (lots %v): pass the checks of the same candidates", b.Symbol, b.LotIDs)
		case !chk.WashSale:
			o.WashChecked = true
			o.Reason = fmt.Sprintf("%s: benefit %s; no wash sale, as long as %s is not bought again on or before %s", what, b.Benefit, b.Symbol, chk.WindowEnd)
		default:
			o.WashChecked, o.WashSale, o.DisallowedLoss = true, true, chk.DisallowedBase
			o.DeferredBenefit = chk.DisallowedShortTermBase.Mul(b.ShortTermRate).Add(chk.DisallowedLongTermBase.Mul(b.LongTermRate))
			o.BenefitNow = decimal.Max(decimal.Zero, b.Benefit.Sub(o.DeferredBenefit))
			o.Reason = fmt.Sprintf("%s: %s; %s of the benefit %s is deferred, %s earned now", what, chk.Reason, o.DeferredBenefit, b.Benefit, o.BenefitNow)
		}
		all = append(all, o)
	}
	sort.SliceStable(all, func(i, j int) bool {
		if c := all[i].BenefitNow.Cmp(all[j].BenefitNow); c != 0 {
			return c > 0
		}
		if c := all[i].Loss.Cmp(all[j].Loss); c != 0 {
			return c > 0
		}
		return all[i].Symbol < all[j].Symbol
	})
	for _, o := range all {
		switch {
		case o.WashSale && in.AvoidWashSales:
			o.Reason = "excluded (avoid_wash_sales): " + o.Reason
			out.Excluded = append(out.Excluded, o)
		case in.Limit > 0 && len(out.Opportunities) >= in.Limit:
			o.Reason = fmt.Sprintf("excluded (beyond the limit of %d): %s", in.Limit, o.Reason)
			out.Excluded = append(out.Excluded, o)
		default:
			o.Rank = len(out.Opportunities) + 1
			if o.WashSale {
				o.Reason = "flagged wash sale: " + o.Reason
			}
			out.Opportunities = append(out.Opportunities, o)
			out.TotalBenefitNow = out.TotalBenefitNow.Add(o.BenefitNow)
		}
	}
	out.Provenance = c.Provenance("candidates ranked by benefit_now (benefit − disallowed loss × its term's rate), then by loss, then symbol",
		"base currency; a wash sale's disallowed loss is deferred to the replacement's basis (IRS Publication 550), so its benefit is not earned now")
	return out, nil
}

func rateText(b RankBenefit) string {
	switch b.Term {
	case TermLong:
		return b.LongTermRate.String()
	case TermShort:
		return b.ShortTermRate.String()
	}
	return fmt.Sprintf("%s short / %s long", b.ShortTermRate, b.LongTermRate)
}
