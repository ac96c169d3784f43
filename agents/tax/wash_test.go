package tax_test

import (
	"testing"

	"github.com/google/uuid"

	"github.com/dawsos/dawsos/agents/tax"
)

// TestWashSalesPublication550 checks the wash-sale rule of IRS Publication
// 550 ("Investment Income and Expenses", chapter 4, Wash Sales): a loss
// on a sale is disallowed when substantially identical stock is bought
// within 30 days before or after it; the disallowed loss is added to the
// basis of the new stock, whose holding period includes that of the stock
// sold; when fewer shares are bought than sold, only that part of the loss
// is disallowed.
//
//   - Z, the publication's own example: buy 100 shares for 1,000, sell them
//     for 750, buy 100 again for 800 within 30 days (21 days later). The
//     loss of 250 is disallowed; the new basis is 800 + 250 = 1,050; the
//     28 days Z was held are added, so the holding period starts
//     2025-02-24 − 28 days = 2025-01-27.
//   - Y: 100 bought for 5,000 on 2025-01-06, sold for 4,000 on 2025-03-03
//     (loss 1,000 held 56 days), 60 bought back for 2,520 on 2025-03-20. 60
//     of 100 shares are replaced: 1,000 × 60/100 = 600 disallowed, 400
//     allowed; basis 2,520 + 600 = 3,120 (52 a share) from 2025-01-23.
//   - V: a purchase 30 days before counts: 10 bought 2025-01-06 for 100, 5
//     bought 2025-03-03 for 45, the January lot (FIFO) sold 2025-04-02 for
//     80 (loss 20, 86 days): 5 of 10 shares replaced, 10 disallowed, basis
//     45 + 10 = 55 from 2025-03-03 − 86 days = 2024-12-07.
//   - W: a purchase 31 days after does not: 10 bought for 100, sold
//     2025-04-01 for 80, bought again 2025-05-02.
func TestWashSalesPublication550(t *testing.T) {
	t.Parallel()
	b := newBook(t)
	z, y, v, w := b.security("ZWASH", "USD"), b.security("YWASH", "USD"), b.security("VWASH", "USD"), b.security("WWASH", "USD")
	p := b.portfolio("wash", "USD", "FIFO")
	ids := b.apply(
		deposit(p, "2025-01-02", "20000", "USD"),
		buy(p, z, "2025-01-06", "100", "10", "0"),    // 1
		buy(p, y, "2025-01-06", "100", "50", "0"),    // 2
		buy(p, v, "2025-01-06", "10", "10", "0"),     // 3
		buy(p, w, "2025-01-06", "10", "10", "0"),     // 4
		sell(p, z, "2025-02-03", "100", "7.50", "0"), // 5
		buy(p, z, "2025-02-24", "100", "8", "0"),     // 6
		sell(p, y, "2025-03-03", "100", "40", "0"),   // 7
		buy(p, v, "2025-03-03", "5", "9", "0"),       // 8
		buy(p, y, "2025-03-20", "60", "42", "0"),     // 9
		sell(p, w, "2025-04-01", "10", "8", "0"),     // 10
		sell(p, v, "2025-04-02", "10", "8", "0"),     // 11
		buy(p, w, "2025-05-02", "10", "8", "0"),      // 12
	)
	h := newHarness(t, b.db, "2025-12-31")
	var out tax.WashSalesOutput
	h.MustCall("tax.wash_sales", map[string]any{"portfolio_id": p, "tax_year": 2025}, &out)
	if out.LossSales != 4 || len(out.WashSales) != 3 {
		t.Fatalf("%d loss sales, %d wash sales; want 4 and 3 (W's purchase is 31 days after): %+v", out.LossSales, len(out.WashSales), out.WashSales)
	}
	want := []struct {
		sale, soldLot, replacement                 uuid.UUID
		loss, disallowed, allowed, qty, basis, cps string
		tacked, days                               int
		start                                      string
	}{
		{ids[5], ids[1], ids[6], "250", "250", "0", "100", "1050", "10.5", 28, 21, "2025-01-27"},
		{ids[7], ids[2], ids[9], "1000", "600", "400", "60", "3120", "52", 56, 17, "2025-01-23"},
		{ids[11], ids[3], ids[8], "20", "10", "10", "5", "55", "11", 86, -30, "2024-12-07"},
	}
	for i, w := range want {
		ws := out.WashSales[i]
		if ws.TransactionID != w.sale || len(ws.Matches) != 1 {
			t.Fatalf("wash sale %d: %+v; want sale %s with one match", i, ws, w.sale)
		}
		eq(t, ws.Symbol+" loss", ws.Loss, w.loss)
		eq(t, ws.Symbol+" disallowed", ws.Disallowed, w.disallowed)
		eq(t, ws.Symbol+" allowed", ws.Allowed, w.allowed)
		m := ws.Matches[0]
		if m.SoldLotID != w.soldLot || m.ReplacementLotID != w.replacement || m.TackedDays != w.tacked || m.DaysFromSale != w.days ||
			m.HoldingPeriodStart != w.start || m.SoldTerm != tax.TermShort {
			t.Errorf("%s match %+v; want sold %s, replacement %s, %d days tacked, %d days from the sale, start %s",
				ws.Symbol, m, w.soldLot, w.replacement, w.tacked, w.days, w.start)
		}
		eq(t, ws.Symbol+" matched shares", m.Quantity, w.qty)
		eq(t, ws.Symbol+" basis adjustment", m.BasisAdjustment, w.disallowed)
		eq(t, ws.Symbol+" adjusted basis", m.AdjustedBasis, w.basis)
		eq(t, ws.Symbol+" adjusted cost per share", m.AdjustedCostPerShare, w.cps)
	}
	eq(t, "disallowed", out.Disallowed, "860")
	eq(t, "disallowed short term", out.DisallowedShortTerm, "860")

	var s tax.SummaryOutput
	h.MustCall("tax.summary", map[string]any{"portfolio_id": p, "tax_year": 2025}, &s)
	// Losses 250 + 1000 + 20 + 20 = 1290, all short term; 860 disallowed.
	eq(t, "short-term losses", s.Gains.ShortTermLosses, "-1290")
	eq(t, "summary disallowed", s.WashSales.Disallowed, "860")
	eq(t, "short term after", s.WashSales.ShortTermAfter, "-430")
}
