package tax_test

import (
	"testing"

	"github.com/dawsos/dawsos/agents/tax"
	"github.com/dawsos/dawsos/storage"
)

// TestHarvestingEndToEnd takes candidates through identify_losses,
// wash_sale_check, calculate_benefit and rank_opportunities, every figure
// by hand. A USD portfolio (FIFO) holds
//
//	K (CAD): 10 bought 2024-03-01 at 200 CAD (2,000 CAD)
//	H (USD): 100 bought 2025-01-06 at 50 (5,000) and 20 bought 2025-05-01 at 30 (600)
//
// and the pack of 2025-05-20 (the as-of date) closes H at 35 and K at
// 120 CAD, 1 CAD = 0.75 USD. Sales at the close:
//
//	H 2025-01-06 lot: 3,500 − 5,000 = −1,500 USD, short (134 days), long term from 2026-01-07
//	H 2025-05-01 lot: 700 − 600 = +100, no candidate
//	K lot: 1,200 − 2,000 = −800 CAD = −600 USD, long (445 days)
//
// Selling the older H lot is a wash sale (IRS Publication 550): the 20 H
// bought 19 days before replace 20 of the 100 shares, so 1,500 × 20/100 =
// 300 is disallowed and the 2025-05-01 lot's basis becomes 600 + 300 = 900.
// K has no purchase within 30 days. Benefits at tax_rate 0.32 and
// long_term_rate 0.15: H 1,500 × 0.32 = 480, K 600 × 0.15 = 90; H's
// disallowed 300 defers 300 × 0.32 = 96, so 384 is earned now.
func TestHarvestingEndToEnd(t *testing.T) {
	t.Parallel()
	b := newBook(t)
	hs, ks := b.security("HHARV", "USD"), b.security("KHARV", "CAD")
	p := b.portfolio("harvest", "USD", "FIFO")
	ids := b.apply(
		deposit(p, "2024-02-01", "10000", "USD"),
		deposit(p, "2024-02-01", "5000", "CAD"),
		buy(p, ks, "2024-03-01", "10", "200", "0"),
		buy(p, hs, "2025-01-06", "100", "50", "0"),
		buy(p, hs, "2025-05-01", "20", "30", "0"),
	)
	kLot, h1, h2 := ids[2], ids[3], ids[4]
	pack := b.pack("2025-05-20", map[string]string{"HHARV": "35", "KHARV": "120"}, storage.FXQuote{From: "CAD", To: "USD", Rate: d("0.75")})
	h := newHarness(t, b.db, "2025-05-20")
	h.Run.PricingPackID = pack

	var losses tax.IdentifyLossesOutput
	h.MustCall("tax.identify_losses", map[string]any{"portfolio_id": p, "pricing_pack_id": pack, "min_loss": 100}, &losses)
	if len(losses.Candidates) != 2 || losses.Evaluated != 3 || losses.BelowThreshold != 0 {
		t.Fatalf("candidates %+v, evaluated %d, below %d; want H's first lot and K of 3", losses.Candidates, losses.Evaluated, losses.BelowThreshold)
	}
	hc, kc := losses.Candidates[0], losses.Candidates[1]
	if hc.Scope != tax.ScopeLot || len(hc.LotIDs) != 1 || hc.LotIDs[0] != h1 || hc.Term != tax.TermShort || hc.HoldingDays != 134 ||
		hc.Lines[0].DaysToLongTerm != 232 {
		t.Errorf("H candidate %+v", hc)
	}
	eq(t, "H loss", hc.Loss, "1500")
	eq(t, "H short-term loss", hc.ShortTermLoss, "1500")
	eq(t, "H price", hc.Price, "35")
	if kc.LotIDs[0] != kLot || kc.Term != tax.TermLong || kc.HoldingDays != 445 || kc.Currency != "CAD" {
		t.Errorf("K candidate %+v", kc)
	}
	eq(t, "K loss in CAD", kc.LossLocal, "800")
	eq(t, "K loss in USD", kc.Loss, "600")
	eq(t, "K long-term loss", kc.LongTermLoss, "600")
	eq(t, "total", losses.TotalLoss, "2100")
	var above tax.IdentifyLossesOutput
	h.MustCall("tax.identify_losses", map[string]any{"portfolio_id": p, "pricing_pack_id": pack, "min_loss": "1000"}, &above)
	if len(above.Candidates) != 1 || above.BelowThreshold != 1 {
		t.Errorf("min_loss 1000: %d candidates, %d below; want 1 and 1 (K's 600)", len(above.Candidates), above.BelowThreshold)
	}

	var checks tax.WashSaleCheckOutput
	h.MustCall("tax.wash_sale_check", map[string]any{"portfolio_id": p, "pricing_pack_id": pack, "sales": losses.Candidates}, &checks)
	if len(checks.Checks) != 2 || checks.WashSales != 1 {
		t.Fatalf("checks %+v; want 2 with one wash sale", checks.Checks)
	}
	hw, kw := checks.Checks[0], checks.Checks[1]
	if !hw.WashSale || len(hw.Matches) != 1 || hw.Matches[0].ReplacementLotID != h2 || hw.Matches[0].DaysFromSale != -19 ||
		hw.Matches[0].HoldingPeriodStart != "2024-12-18" {
		t.Errorf("H check %+v", hw)
	}
	eq(t, "H loss checked", hw.LossBase, "1500")
	eq(t, "H disallowed", hw.DisallowedBase, "300")
	eq(t, "H allowed", hw.AllowedBase, "1200")
	eq(t, "H replacement basis", hw.Matches[0].AdjustedBasis, "900")
	if kw.WashSale || kw.WindowEnd != "2025-06-19" || len(kw.Purchases) != 0 {
		t.Errorf("K check %+v; want no wash sale, window to 2025-06-19", kw)
	}
	eq(t, "K loss checked", kw.LossBase, "600")

	// A planned purchase of 5 K at 118 CAD 21 days after the sale replaces
	// half of it: 800 × 5/10 = 400 CAD disallowed (300 USD), basis
	// 5 × 118 + 400 = 990 CAD.
	var planned tax.WashSaleCheckOutput
	h.MustCall("tax.wash_sale_check", map[string]any{"portfolio_id": p, "pricing_pack_id": pack,
		"sales":             []any{map[string]any{"security_id": ks, "quantity": 10}},
		"planned_purchases": []any{map[string]any{"security_id": ks, "date": "2025-06-10", "quantity": 5, "price": "118"}}}, &planned)
	pc := planned.Checks[0]
	if !pc.WashSale || !pc.Matches[0].ReplacementPlanned || pc.Matches[0].DaysFromSale != 21 {
		t.Fatalf("planned purchase: %+v", pc)
	}
	eq(t, "planned disallowed", pc.Disallowed, "400")
	eq(t, "planned disallowed USD", pc.DisallowedBase, "300")
	eq(t, "planned basis", pc.Matches[0].AdjustedBasis, "990")

	var benefit tax.CalculateBenefitOutput
	h.MustCall("tax.calculate_benefit", map[string]any{"losses": losses, "tax_rate": 0.32, "long_term_rate": "0.15"}, &benefit)
	if benefit.Rates.ShortTermSource != "tax_rate" || benefit.Rates.LongTermSource != "long_term_rate" {
		t.Errorf("rates %+v", benefit.Rates)
	}
	eq(t, "H benefit", benefit.Benefits[0].Benefit, "480")
	eq(t, "K benefit", benefit.Benefits[1].Benefit, "90")
	eq(t, "total benefit", benefit.TotalBenefit, "570")

	var avoid tax.RankOpportunitiesOutput
	h.MustCall("tax.rank_opportunities", map[string]any{"benefits": benefit, "wash_checks": checks}, &avoid)
	if len(avoid.Opportunities) != 1 || avoid.Opportunities[0].Symbol != "KHARV" || avoid.Opportunities[0].Rank != 1 ||
		len(avoid.Excluded) != 1 || avoid.Excluded[0].Symbol != "HHARV" || !avoid.Excluded[0].WashSale {
		t.Fatalf("avoid_wash_sales (default): %+v", avoid)
	}
	eq(t, "K benefit now", avoid.Opportunities[0].BenefitNow, "90")
	eq(t, "H deferred", avoid.Excluded[0].DeferredBenefit, "96")
	eq(t, "total now", avoid.TotalBenefitNow, "90")

	var flag tax.RankOpportunitiesOutput
	h.MustCall("tax.rank_opportunities", map[string]any{"benefits": benefit, "wash_checks": checks, "avoid_wash_sales": false}, &flag)
	if len(flag.Opportunities) != 2 || flag.Opportunities[0].Symbol != "HHARV" || !flag.Opportunities[0].WashSale || flag.Opportunities[1].Rank != 2 {
		t.Fatalf("flagged: %+v", flag)
	}
	eq(t, "H benefit now", flag.Opportunities[0].BenefitNow, "384")
	eq(t, "total now flagged", flag.TotalBenefitNow, "474")
	for _, o := range append(flag.Opportunities, avoid.Excluded...) {
		if o.Reason == "" {
			t.Errorf("%s has no reason", o.Symbol)
		}
	}
	var unchecked tax.RankOpportunitiesOutput
	h.MustCall("tax.rank_opportunities", map[string]any{"benefits": benefit}, &unchecked)
	if len(unchecked.Opportunities) != 2 || unchecked.Opportunities[0].WashChecked {
		t.Errorf("without checks: %+v", unchecked)
	}

	var details tax.LotDetailsOutput
	h.MustCall("tax.lot_details", map[string]any{"portfolio_id": p, "pricing_pack_id": pack, "security_id": hs}, &details)
	if len(details.Lots) != 2 || details.Lots[0].LotID != h1 || details.Lots[0].LongTermFrom != "2026-01-07" || details.Lots[0].DaysToLongTerm != 232 {
		t.Fatalf("lot details of H: %+v", details.Lots)
	}
	eq(t, "H lot 1 gain", *details.Lots[0].Gain, "-1500")
	eq(t, "H lot 2 gain", *details.Lots[1].Gain, "100")
	eq(t, "H net", details.Totals.Net, "-1400")
}
