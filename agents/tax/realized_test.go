package tax_test

import (
	"fmt"
	"testing"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/agents/tax"
	"github.com/dawsos/dawsos/storage"
)

// scriptedYear is one security X (USD) traded the same way in four USD
// portfolios, one per recorded method:
//
//	2024-01-02 deposit 10000
//	2024-01-10 buy 100 X at 10   lot A, cost 1000 (10 a share)
//	2024-06-03 buy  50 X at 20   lot B, cost 1000 (20 a share)
//	2025-02-03 buy 100 X at 15   lot C, cost 1500 (15 a share)
//	2025-03-03 sell 120 X at 18, fee 10: proceeds 2160 − 10 = 2150   (S1)
//	2025-06-02 dividend 50, interest 12.50, 2025-06-30 account fee 25
//	2025-09-02 sell 60 X at 12, no fee: proceeds 720                 (S2)
//
// Days held at S1 (2025-03-03): A 418 (long), B 273, C 28 (short); at S2
// (2025-09-02): A 601, B 456 (long), C 211 (short). Long term: more than
// 365 days.
type scriptedYear struct {
	b        *book
	x        uuid.UUID
	port     map[string]uuid.UUID            // by method
	lot      map[string]map[string]uuid.UUID // method -> A, B, C -> lot id
	s1, s2   map[string]uuid.UUID            // method -> sale transaction id
	dividend uuid.UUID
}

func buildScriptedYear(t *testing.T) scriptedYear {
	b := newBook(t)
	sy := scriptedYear{b: b, x: b.security("XTAX", "USD"), port: map[string]uuid.UUID{}, lot: map[string]map[string]uuid.UUID{},
		s1: map[string]uuid.UUID{}, s2: map[string]uuid.UUID{}}
	for _, m := range []string{storage.CostBasisFIFO, storage.CostBasisLIFO, storage.CostBasisHIFO, storage.CostBasisAverageCost} {
		p := b.portfolio("scripted "+m, "USD", m)
		ids := b.apply(
			deposit(p, "2024-01-02", "10000", "USD"),
			buy(p, sy.x, "2024-01-10", "100", "10", "0"),
			buy(p, sy.x, "2024-06-03", "50", "20", "0"),
			buy(p, sy.x, "2025-02-03", "100", "15", "0"),
			sell(p, sy.x, "2025-03-03", "120", "18", "10"),
			storage.Transaction{PortfolioID: p, SecurityID: sy.x, Type: storage.TxDividend, TradeDate: date("2025-06-02"), Amount: d("50")},
			storage.Transaction{PortfolioID: p, Type: storage.TxInterest, TradeDate: date("2025-06-02"), Amount: d("12.50")},
			storage.Transaction{PortfolioID: p, Type: storage.TxFee, TradeDate: date("2025-06-30"), Amount: d("25")},
			sell(p, sy.x, "2025-09-02", "60", "12", "0"),
		)
		sy.port[m] = p
		sy.lot[m] = map[string]uuid.UUID{"A": ids[1], "B": ids[2], "C": ids[3]}
		sy.s1[m], sy.s2[m] = ids[4], ids[8]
	}
	return sy
}

// handLine is one lot line of a sale worked out by hand.
type handLine struct {
	lot                       string
	qty, proceeds, cost, gain string
	days                      int
	term                      string
}

// handYear is the year's sales under one method, by hand.
type handYear struct {
	s1, s2                 []handLine
	short, long, net       string
	shortLosses, longGains string
}

// byHand are the realised gains of 2025 under each method, worked out by
// hand with the lot engine's rule that a sale's proceeds are shared pro
// rata to quantity, rounded to 10 places, the last lot taking the rest
// (2150 × 100/120 = 1791.6666666667, 2150 − 1791.6666666667 = 358.3333333333).
var byHand = map[string]handYear{
	// FIFO: S1 takes A 100 and B 20 (cost 1000 × 20/50 = 400); S2 takes the
	// rest of B (30, cost 600) and C 30 (1500 × 30/100 = 450).
	"FIFO": {
		s1:    []handLine{{"A", "100", "1791.6666666667", "1000", "791.6666666667", 418, "long"}, {"B", "20", "358.3333333333", "400", "-41.6666666667", 273, "short"}},
		s2:    []handLine{{"B", "30", "360", "600", "-240", 456, "long"}, {"C", "30", "360", "450", "-90", 211, "short"}},
		short: "-131.6666666667", long: "551.6666666667", net: "420", shortLosses: "-131.6666666667", longGains: "791.6666666667",
	},
	// LIFO: S1 takes C 100 and B 20; S2 takes B 30 (600) and A 30 (300).
	"LIFO": {
		s1:    []handLine{{"C", "100", "1791.6666666667", "1500", "291.6666666667", 28, "short"}, {"B", "20", "358.3333333333", "400", "-41.6666666667", 273, "short"}},
		s2:    []handLine{{"B", "30", "360", "600", "-240", 456, "long"}, {"A", "30", "360", "300", "60", 601, "long"}},
		short: "250", long: "-180", net: "70", shortLosses: "-41.6666666667", longGains: "60",
	},
	// HIFO (20 > 15 > 10 a share): S1 takes B 50 and C 70 (1050),
	// 2150 × 50/120 = 895.8333333333; S2 takes C 30 (450) and A 30 (300).
	"HIFO": {
		s1:    []handLine{{"B", "50", "895.8333333333", "1000", "-104.1666666667", 273, "short"}, {"C", "70", "1254.1666666667", "1050", "204.1666666667", 28, "short"}},
		s2:    []handLine{{"C", "30", "360", "450", "-90", 211, "short"}, {"A", "30", "360", "300", "60", 601, "long"}},
		short: "10", long: "60", net: "70", shortLosses: "-194.1666666667", longGains: "60",
	},
	// SPECIFIC_LOT with selections S1 = [C, A], S2 = [B, A]: S1 takes C 100
	// and A 20 (200); S2 takes B 50 (1000) and A 10 (the 800 left on 80
	// shares × 10/80 = 100); 720 × 50/60 = 600.
	"SPECIFIC_LOT": {
		s1:    []handLine{{"C", "100", "1791.6666666667", "1500", "291.6666666667", 28, "short"}, {"A", "20", "358.3333333333", "200", "158.3333333333", 418, "long"}},
		s2:    []handLine{{"B", "50", "600", "1000", "-400", 456, "long"}, {"A", "10", "120", "100", "20", 601, "long"}},
		short: "291.6666666667", long: "-221.6666666667", net: "70", shortLosses: "0", longGains: "178.3333333333",
	},
	// AVERAGE_COST: S1 pools 250 shares costing 3500 and relieves
	// 3500 × 120/250 = 1680, quantity from the earliest lots (A 100 at
	// 1680 × 100/120 = 1400, B 20 at 280); B 30 and C 100 then share 1820
	// (B 420, C 1400). S2 relieves 1820 × 60/130 = 840: B 30 and C 30 at 420.
	"AVERAGE_COST": {
		s1:    []handLine{{"A", "100", "1791.6666666667", "1400", "391.6666666667", 418, "long"}, {"B", "20", "358.3333333333", "280", "78.3333333333", 273, "short"}},
		s2:    []handLine{{"B", "30", "360", "420", "-60", 456, "long"}, {"C", "30", "360", "420", "-60", 211, "short"}},
		short: "18.3333333333", long: "331.6666666667", net: "350", shortLosses: "-60", longGains: "391.6666666667",
	},
}

func checkYear(t *testing.T, what string, out tax.RealizedGainsOutput, want handYear, lots map[string]uuid.UUID) {
	t.Helper()
	if len(out.Sales) != 2 {
		t.Fatalf("%s: %d sales; want 2: %+v", what, len(out.Sales), out.Sales)
	}
	for i, lines := range [][]handLine{want.s1, want.s2} {
		s := out.Sales[i]
		if len(s.Lots) != len(lines) {
			t.Fatalf("%s: sale %d has %d lots; want %d: %+v", what, i+1, len(s.Lots), len(lines), s.Lots)
		}
		gain := decimal.Zero
		for j, w := range lines {
			l := s.Lots[j]
			where := fmt.Sprintf("%s: sale %d lot %d (%s)", what, i+1, j+1, w.lot)
			if l.LotID != lots[w.lot] {
				t.Errorf("%s: lot %s; want lot %s (%s)", where, l.LotID, w.lot, lots[w.lot])
			}
			eq(t, where+" quantity", l.Quantity, w.qty)
			eq(t, where+" proceeds", l.Proceeds, w.proceeds)
			eq(t, where+" cost", l.Cost, w.cost)
			eq(t, where+" gain", l.Gain, w.gain)
			eq(t, where+" gain_base", l.GainBase, w.gain)
			if l.HoldingDays != w.days || l.Term != w.term {
				t.Errorf("%s: %d days, %s; want %d, %s", where, l.HoldingDays, l.Term, w.days, w.term)
			}
			gain = gain.Add(d(w.gain))
		}
		eq(t, fmt.Sprintf("%s: sale %d gain", what, i+1), s.Gain, gain.String())
	}
	eq(t, what+" short term", out.Totals.ShortTerm, want.short)
	eq(t, what+" long term", out.Totals.LongTerm, want.long)
	eq(t, what+" net", out.Totals.Net, want.net)
	eq(t, what+" short-term losses", out.Totals.ShortTermLosses, want.shortLosses)
	eq(t, what+" long-term gains", out.Totals.LongTermGains, want.longGains)
	eq(t, what+" proceeds", out.Totals.Proceeds, "2870")
}

// TestRealizedGainsByMethod checks a scripted year under every method
// against the hand computation: recorded for a portfolio's own method (four
// portfolios), replayed in memory on the FIFO portfolio for each other one,
// and the replay writes nothing.
func TestRealizedGainsByMethod(t *testing.T) {
	t.Parallel()
	sy := buildScriptedYear(t)
	h := newHarness(t, sy.b.db, "2025-12-31")
	fifo := sy.port["FIFO"]
	var before int
	if err := sy.b.db.QueryRow(t.Context(), `SELECT count(*) FROM lot_reliefs WHERE portfolio_id = $1`, []any{fifo}, &before); err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{"FIFO", "LIFO", "HIFO", "SPECIFIC_LOT", "AVERAGE_COST"} {
		args := map[string]any{"portfolio_id": fifo, "tax_year": 2025, "method": m}
		if m == "SPECIFIC_LOT" {
			l := sy.lot["FIFO"]
			args["lot_selections"] = []map[string]any{
				{"transaction_id": sy.s1["FIFO"], "lot_ids": []uuid.UUID{l["C"], l["A"]}},
				{"transaction_id": sy.s2["FIFO"], "lot_ids": []uuid.UUID{l["B"], l["A"]}},
			}
		}
		var out tax.RealizedGainsOutput
		h.MustCall("tax.realized_gains", args, &out)
		wantSource := tax.SourceReplayed
		if m == "FIFO" {
			wantSource = tax.SourceRecorded
		}
		if out.Source != wantSource || out.Method != m || out.PortfolioMethod != "FIFO" {
			t.Errorf("%s on the FIFO portfolio: source %s, method %s, portfolio method %s; want %s, %s, FIFO", m, out.Source, out.Method, out.PortfolioMethod, wantSource, m)
		}
		checkYear(t, m+" on the FIFO portfolio", out, byHand[m], sy.lot["FIFO"])

		if p, ok := sy.port[m]; ok && m != "FIFO" {
			var own tax.RealizedGainsOutput
			h.MustCall("tax.realized_gains", map[string]any{"portfolio_id": p, "tax_year": 2025}, &own)
			if own.Source != tax.SourceRecorded || own.Method != m {
				t.Errorf("%s portfolio: source %s, method %s; want recorded, %s", m, own.Source, own.Method, m)
			}
			checkYear(t, m+" recorded", own, byHand[m], sy.lot[m])
		}
	}
	// Lower case, as the tax report pattern passes it.
	var lower tax.RealizedGainsOutput
	h.MustCall("tax.realized_gains", map[string]any{"portfolio_id": sy.port["LIFO"], "tax_year": 2025, "method": "hifo"}, &lower)
	checkYear(t, "hifo on the LIFO portfolio", lower, byHand["HIFO"], sy.lot["LIFO"])

	var after int
	if err := sy.b.db.QueryRow(t.Context(), `SELECT count(*) FROM lot_reliefs WHERE portfolio_id = $1`, []any{fifo}, &after); err != nil {
		t.Fatal(err)
	}
	if after != before {
		t.Errorf("lot_reliefs of the FIFO portfolio: %d before the replays, %d after; a replay must not write", before, after)
	}

	// A year without sales is empty, not an error.
	var empty tax.RealizedGainsOutput
	h.MustCall("tax.realized_gains", map[string]any{"portfolio_id": fifo, "tax_year": 2024}, &empty)
	if len(empty.Sales) != 0 || !empty.Totals.Net.IsZero() || empty.Totals.Sales != 0 || empty.From != "2024-01-01" || empty.To != "2024-12-31" {
		t.Errorf("2024 (buys only): %+v; want no sales and zero totals", empty)
	}
	var emptyWash tax.WashSalesOutput
	h.MustCall("tax.wash_sales", map[string]any{"portfolio_id": fifo, "tax_year": 2024}, &emptyWash)
	if len(emptyWash.WashSales) != 0 || emptyWash.LossSales != 0 || !emptyWash.Disallowed.IsZero() {
		t.Errorf("wash sales of 2024: %+v; want none", emptyWash)
	}
	// The default year is the as-of date's.
	var def tax.RealizedGainsOutput
	h.MustCall("tax.realized_gains", map[string]any{"portfolio_id": fifo}, &def)
	if def.TaxYear != 2025 || len(def.Sales) != 2 {
		t.Errorf("default year %d with %d sales; want 2025 with 2", def.TaxYear, len(def.Sales))
	}
}

// TestSummaryScriptedYear: the FIFO year's totals. S1 loses 41.6666666667
// on lot B (short term) and lot C, bought 28 days before, replaces those
// 20 shares, so the loss is disallowed (IRS Publication 550); S2 has no
// purchase within 30 days. Dividends 50, interest 12.50, commissions 10
// (S1's fee), account fees 25.
func TestSummaryScriptedYear(t *testing.T) {
	t.Parallel()
	sy := buildScriptedYear(t)
	h := newHarness(t, sy.b.db, "2025-12-31")
	var s tax.SummaryOutput
	h.MustCall("tax.summary", map[string]any{"portfolio_id": sy.port["FIFO"], "tax_year": 2025}, &s)
	eq(t, "short term", s.Gains.ShortTerm, "-131.6666666667")
	eq(t, "long term", s.Gains.LongTerm, "551.6666666667")
	eq(t, "net", s.Gains.Net, "420")
	if s.WashSales == nil || s.WashSales.Count != 1 {
		t.Fatalf("wash sales %+v; want one", s.WashSales)
	}
	eq(t, "disallowed", s.WashSales.Disallowed, "41.6666666667")
	eq(t, "disallowed short term", s.WashSales.DisallowedShortTerm, "41.6666666667")
	eq(t, "short term after", s.WashSales.ShortTermAfter, "-90")
	eq(t, "net after", s.WashSales.NetAfter, "461.6666666667")
	eq(t, "dividends gross", s.Income.DividendsGross, "50")
	eq(t, "dividends net", s.Income.DividendsNet, "50")
	eq(t, "interest", s.Income.InterestReceived, "12.50")
	eq(t, "commissions", s.Fees.Commissions, "10")
	eq(t, "account fees", s.Fees.AccountFees, "25")
	eq(t, "fees", s.Fees.Total, "35")
	if s.Income.Dividends != 1 || s.Income.Interest != 1 || s.Fees.FeeTransactions != 1 || s.Source != tax.SourceRecorded {
		t.Errorf("counts %+v %+v, source %s", s.Income, s.Fees, s.Source)
	}

	// The wash sale in detail: lot C's 20 matched shares cost 1500 × 20/100
	// = 300, plus the disallowed 41.6666666667; their holding period starts
	// 273 days (B's) before 2025-02-03, on 2024-05-06.
	var ws tax.WashSalesOutput
	h.MustCall("tax.wash_sales", map[string]any{"portfolio_id": sy.port["FIFO"], "tax_year": 2025}, &ws)
	if ws.LossSales != 2 || len(ws.WashSales) != 1 || len(ws.WashSales[0].Matches) != 1 {
		t.Fatalf("wash sales %+v; want 2 loss sales, 1 wash sale with 1 match", ws)
	}
	m := ws.WashSales[0].Matches[0]
	if m.SoldLotID != sy.lot["FIFO"]["B"] || m.ReplacementLotID != sy.lot["FIFO"]["C"] || m.TackedDays != 273 ||
		m.HoldingPeriodStart != "2024-05-06" || m.DaysFromSale != -28 || m.Part != 1 {
		t.Errorf("match %+v", m)
	}
	eq(t, "matched", m.Quantity, "20")
	eq(t, "adjusted basis", m.AdjustedBasis, "341.6666666667")
	eq(t, "allowed", ws.WashSales[0].Allowed, "0")

	var no tax.SummaryOutput
	h.MustCall("tax.summary", map[string]any{"portfolio_id": sy.port["FIFO"], "tax_year": 2025, "include_wash_sales": false}, &no)
	if no.WashSales != nil {
		t.Errorf("include_wash_sales false: wash sales %+v; want null", no.WashSales)
	}
}

// TestBadInput: unknown portfolio, security not held, invalid method and
// selections, a year after the as-of date.
func TestBadInput(t *testing.T) {
	t.Parallel()
	sy := buildScriptedYear(t)
	other := sy.b.security("NOTHELD", "USD")
	pack := sy.b.pack("2025-12-31", map[string]string{"XTAX": "11", "NOTHELD": "5"})
	h := newHarness(t, sy.b.db, "2025-12-31")
	h.Run.PricingPackID = pack
	unknown := uuid.New()
	fifo := sy.port["FIFO"]
	var out map[string]any
	for _, c := range []struct {
		name string
		args map[string]any
	}{
		{"tax.realized_gains", map[string]any{"portfolio_id": unknown}},
		{"tax.wash_sales", map[string]any{"portfolio_id": unknown}},
		{"tax.summary", map[string]any{"portfolio_id": unknown}},
		{"tax.lot_details", map[string]any{"portfolio_id": unknown, "pricing_pack_id": pack}},
		{"tax.identify_losses", map[string]any{"portfolio_id": unknown, "pricing_pack_id": pack}},
		{"tax.wash_sale_check", map[string]any{"portfolio_id": unknown, "pricing_pack_id": pack, "sales": []any{}}},
	} {
		wantCode(t, c.name+" of an unknown portfolio", h.Call(c.name, c.args, &out), agents.CodeNotFound, unknown.String())
	}
	wantCode(t, "lot_details of a security not held", h.Call("tax.lot_details",
		map[string]any{"portfolio_id": fifo, "pricing_pack_id": pack, "security_id": other}, &out), agents.CodeNotFound, "not held", "NOTHELD")
	wantCode(t, "identify_losses of a security not held", h.Call("tax.identify_losses",
		map[string]any{"portfolio_id": fifo, "pricing_pack_id": pack, "security_id": other}, &out), agents.CodeNotFound, "not held")
	wantCode(t, "wash_sale_check of a security not held", h.Call("tax.wash_sale_check",
		map[string]any{"portfolio_id": fifo, "pricing_pack_id": pack, "sales": []any{map[string]any{"security_id": other, "quantity": 1}}}, &out),
		agents.CodeNotFound, "not held", "NOTHELD")
	wantCode(t, "wash_sale_check of more than is held", h.Call("tax.wash_sale_check",
		map[string]any{"portfolio_id": fifo, "pricing_pack_id": pack, "sales": []any{map[string]any{"security_id": sy.x, "quantity": 1000}}}, &out),
		agents.CodeInvalidInput, "sales[0].quantity")
	wantCode(t, "invalid method", h.Call("tax.realized_gains", map[string]any{"portfolio_id": fifo, "method": "FIFOX"}, &out),
		agents.CodeInvalidInput, "method")
	wantCode(t, "SPECIFIC_LOT without selections", h.Call("tax.realized_gains", map[string]any{"portfolio_id": fifo, "method": "SPECIFIC_LOT"}, &out),
		agents.CodeInvalidInput, "lot_selections", "names no lot")
	wantCode(t, "selections under AVERAGE_COST", h.Call("tax.realized_gains", map[string]any{"portfolio_id": fifo, "method": "AVERAGE_COST",
		"lot_selections": []any{map[string]any{"transaction_id": sy.s1["FIFO"], "lot_ids": []uuid.UUID{sy.lot["FIFO"]["A"]}}}}, &out),
		agents.CodeInvalidInput, "AVERAGE_COST")
	wantCode(t, "a selection of a transaction that is no sale", h.Call("tax.realized_gains", map[string]any{"portfolio_id": fifo, "method": "LIFO",
		"lot_selections": []any{map[string]any{"transaction_id": sy.lot["FIFO"]["A"], "lot_ids": []uuid.UUID{sy.lot["FIFO"]["A"]}}}}, &out),
		agents.CodeInvalidInput, "lot_selections[0].transaction_id")
	wantCode(t, "a selection of lots holding too little", h.Call("tax.realized_gains", map[string]any{"portfolio_id": fifo, "method": "SPECIFIC_LOT",
		"lot_selections": []any{map[string]any{"transaction_id": sy.s1["FIFO"], "lot_ids": []uuid.UUID{sy.lot["FIFO"]["B"]}}}}, &out),
		agents.CodeInvalidInput, "lot_selections[0].lot_ids", "hold 50")
	wantCode(t, "a tax year after the as-of date", h.Call("tax.realized_gains", map[string]any{"portfolio_id": fifo, "tax_year": 2026}, &out),
		agents.CodeInvalidInput, "tax_year")
	wantCode(t, "a negative threshold", h.Call("tax.identify_losses", map[string]any{"portfolio_id": fifo, "pricing_pack_id": pack, "min_loss": "-1"}, &out),
		agents.CodeInvalidInput, "min_loss")
	wantCode(t, "no rate", h.Call("tax.calculate_benefit", map[string]any{"losses": map[string]any{"base_currency": "USD", "candidates": []any{}}}, &out),
		agents.CodeInvalidInput, "tax_rate")
	wantCode(t, "a rate above 1", h.Call("tax.calculate_benefit", map[string]any{"losses": map[string]any{"base_currency": "USD", "candidates": []any{}},
		"tax_rate": 32}, &out), agents.CodeInvalidInput, "tax_rate")
}
