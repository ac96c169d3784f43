package quant

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/shopspring/decimal"
)

func taxDec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func taxDay(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

// taxTestLots: four lots of one security, 270 shares costing
// 1000 + 750 + 960 + 320 = 3030 in total.
func taxTestLots() []Lot {
	return []Lot{
		{ID: "C", Acquired: taxDay("2021-03-01"), Quantity: taxDec("80"), CostPerShare: taxDec("12")},
		{ID: "A", Acquired: taxDay("2020-01-10"), Quantity: taxDec("100"), CostPerShare: taxDec("10")},
		{ID: "D", Acquired: taxDay("2021-09-15"), Quantity: taxDec("40"), CostPerShare: taxDec("8")},
		{ID: "B", Acquired: taxDay("2020-06-01"), Quantity: taxDec("50"), CostPerShare: taxDec("15")},
	}
}

func taxPiecesString(ps []RelievedPiece) string {
	s := ""
	for _, p := range ps {
		s += fmt.Sprintf("%s:%s@%s=%s ", p.LotID, p.Quantity, p.CostPerShare.StringFixed(4), p.Cost.StringFixed(4))
	}
	return s
}

func taxLotsString(ls []Lot) string {
	s := ""
	for _, l := range ls {
		s += fmt.Sprintf("%s:%s@%s ", l.ID, l.Quantity, l.CostPerShare.StringFixed(4))
	}
	return s
}

// TestRelieve sells 170 of the 270 shares by each method; expected pieces
// are hand computed from the lots above (each crosses lot boundaries and
// ends with a partial lot).
func TestRelieve(t *testing.T) {
	t.Parallel()
	cases := []struct {
		method     ReliefMethod
		ids        []string
		qty        string
		wantPieces string
		wantCost   string
		wantRest   string
	}{
		// Oldest first: A 100×10, B 50×15, C 20×12 = 1000+750+240.
		{ReliefFIFO, nil, "170", "A:100@10.0000=1000.0000 B:50@15.0000=750.0000 C:20@12.0000=240.0000 ", "1990", "C:60@12.0000 D:40@8.0000 "},
		// Newest first: D 40×8, C 80×12, B 50×15 = 320+960+750.
		{ReliefLIFO, nil, "170", "D:40@8.0000=320.0000 C:80@12.0000=960.0000 B:50@15.0000=750.0000 ", "2030", "A:100@10.0000 "},
		// Dearest first: B 50×15, C 80×12, A 40×10 = 750+960+400.
		{ReliefHIFO, nil, "170", "B:50@15.0000=750.0000 C:80@12.0000=960.0000 A:40@10.0000=400.0000 ", "2110", "A:60@10.0000 D:40@8.0000 "},
		// Named order D, A, C: 40×8 + 100×10 + 30×12 = 320+1000+360.
		{ReliefSpecificLot, []string{"D", "A", "C"}, "170", "D:40@8.0000=320.0000 A:100@10.0000=1000.0000 C:30@12.0000=360.0000 ", "1680", "C:50@12.0000 B:50@15.0000 "},
		// Average 3030/270 = 11.2222…; pieces dated FIFO: 100, 50, 20 shares
		// cost 1122.2222…, 561.1111…, 224.4444…; total 170×3030/270 = 1907.78 to cents.
		{ReliefAverageCost, nil, "170", "A:100@11.2222=1122.2222 B:50@11.2222=561.1111 C:20@11.2222=224.4444 ", "1907.78", "C:60@11.2222 D:40@11.2222 "},
		// Whole position at average cost relieves exactly the total cost.
		{ReliefAverageCost, nil, "270", "A:100@11.2222=1122.2222 B:50@11.2222=561.1111 C:80@11.2222=897.7778 D:40@11.2222=448.8889 ", "3030", ""},
		// Fractional shares stay exact: FIFO 100.5 = A 100×10 + B 0.5×15.
		{ReliefFIFO, nil, "100.5", "A:100@10.0000=1000.0000 B:0.5@15.0000=7.5000 ", "1007.5", "C:80@12.0000 D:40@8.0000 B:49.5@15.0000 "},
	}
	for _, c := range cases {
		t.Run(string(c.method)+"_"+c.qty, func(t *testing.T) {
			t.Parallel()
			lots := taxTestLots()
			pieces, rest, err := Relieve(lots, taxDec(c.qty), c.method, c.ids)
			if err != nil {
				t.Fatalf("Relieve(%s, %s): %v", c.qty, c.method, err)
			}
			if got := taxPiecesString(pieces); got != c.wantPieces {
				t.Errorf("Relieve(%s, %s) pieces = %q, want %q", c.qty, c.method, got, c.wantPieces)
			}
			cost := decimal.Zero
			for _, p := range pieces {
				cost = cost.Add(p.Cost)
			}
			if got := cost.Round(2); !got.Equal(taxDec(c.wantCost)) {
				t.Errorf("Relieve(%s, %s) cost = %s, want %s", c.qty, c.method, cost, c.wantCost)
			}
			if got := taxLotsString(rest); got != c.wantRest {
				t.Errorf("Relieve(%s, %s) remaining = %q, want %q", c.qty, c.method, got, c.wantRest)
			}
			if taxLotsString(lots) != taxLotsString(taxTestLots()) {
				t.Errorf("Relieve modified its input: %s", taxLotsString(lots))
			}
		})
	}
}

func TestRelieveErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		lots   []Lot
		qty    string
		method ReliefMethod
		ids    []string
		want   error
	}{
		{"oversell", taxTestLots(), "270.01", ReliefFIFO, nil, ErrOversold},
		{"oversell no lots", nil, "1", ReliefLIFO, nil, ErrOversold},
		{"specific lots too small", taxTestLots(), "150", ReliefSpecificLot, []string{"D", "A"}, ErrOversold},
		{"specific unknown id", taxTestLots(), "10", ReliefSpecificLot, []string{"Z"}, ErrInvalid},
		{"specific repeated id", taxTestLots(), "10", ReliefSpecificLot, []string{"A", "A"}, ErrInvalid},
		{"specific no ids", taxTestLots(), "10", ReliefSpecificLot, nil, ErrInvalid},
		{"zero quantity", taxTestLots(), "0", ReliefFIFO, nil, ErrInvalid},
		{"unknown method", taxTestLots(), "10", ReliefMethod("LOWEST"), nil, ErrInvalid},
		{"duplicate lot ids", []Lot{{ID: "A", Quantity: taxDec("1")}, {ID: "A", Quantity: taxDec("1")}}, "1", ReliefFIFO, nil, ErrInvalid},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			_, _, err := Relieve(c.lots, taxDec(c.qty), c.method, c.ids)
			if !errors.Is(err, c.want) {
				t.Errorf("Relieve(%s, %s, %v) error = %v, want %v", c.qty, c.method, c.ids, err, c.want)
			}
			if errors.Is(c.want, ErrOversold) && !errors.Is(err, ErrInvalid) {
				t.Errorf("ErrOversold must wrap ErrInvalid, got %v", err)
			}
		})
	}
}

// TestHoldingPeriodBoundary: bought 2023-01-01; 2024-01-01 is 365 days
// later (2023 is not a leap year) → short-term; 2024-01-02 is 366 → long.
func TestHoldingPeriodBoundary(t *testing.T) {
	t.Parallel()
	piece := []RelievedPiece{{LotID: "L", Acquired: taxDay("2023-01-01"), Quantity: taxDec("10"), CostPerShare: taxDec("5"), Cost: taxDec("50")}}
	cases := []struct {
		sold     string
		days     int
		longTerm bool
	}{
		{"2024-01-01", 365, false},
		{"2024-01-02", 366, true},
	}
	for _, c := range cases {
		rep, err := RealizedGains(piece, taxDay(c.sold), taxDec("80"))
		if err != nil {
			t.Fatalf("RealizedGains(sold %s): %v", c.sold, err)
		}
		l := rep.Lines[0]
		if l.HoldingDays != c.days || l.LongTerm != c.longTerm {
			t.Errorf("sold %s: holding %d days long-term %v, want %d and %v", c.sold, l.HoldingDays, l.LongTerm, c.days, c.longTerm)
		}
		st, lt := "30", "0"
		if c.longTerm {
			st, lt = "0", "30"
		}
		if !rep.ShortTerm.Equal(taxDec(st)) || !rep.LongTerm.Equal(taxDec(lt)) {
			t.Errorf("sold %s: short %s long %s, want %s and %s", c.sold, rep.ShortTerm, rep.LongTerm, st, lt)
		}
	}
	// Clock time and zone do not move the count: 23:30 in New York on the
	// 365th day is still day 365.
	ny, err := time.LoadLocation("America/New_York")
	if err == nil {
		rep, err := RealizedGains(piece, time.Date(2024, 1, 1, 23, 30, 0, 0, ny), taxDec("80"))
		if err != nil || rep.Lines[0].HoldingDays != 365 {
			t.Errorf("late-evening sale: holding %d days, err %v; want 365", rep.Lines[0].HoldingDays, err)
		}
	}
}

// TestFIFOVersusAverageCost is a hand computation (labelled as such, not a
// published example): buy 100 @ 20 on 2023-01-10 and 100 @ 30 on
// 2024-03-01; sell 150 on 2024-08-15 for net proceeds 6,000 (40 a share).
// FIFO: 100 @ 20 (held 583 days, long) + 50 @ 30 (167 days, short);
// proceeds 4,000 / 2,000; gains 2,000 long + 500 short = 2,500.
// Average cost: 5,000 / 200 = 25 a share; the same 100 + 50 shares cost
// 2,500 and 1,250; gains 1,500 long + 750 short = 2,250.
func TestFIFOVersusAverageCost(t *testing.T) {
	t.Parallel()
	lots := []Lot{
		{ID: "1", Acquired: taxDay("2023-01-10"), Quantity: taxDec("100"), CostPerShare: taxDec("20")},
		{ID: "2", Acquired: taxDay("2024-03-01"), Quantity: taxDec("100"), CostPerShare: taxDec("30")},
	}
	cases := []struct {
		method                 ReliefMethod
		wantLong, wantShort    string
		wantTotal, wantRestCPS string
	}{
		{ReliefFIFO, "2000", "500", "2500", "30"},
		{ReliefAverageCost, "1500", "750", "2250", "25"},
	}
	for _, c := range cases {
		pieces, rest, err := Relieve(lots, taxDec("150"), c.method, nil)
		if err != nil {
			t.Fatalf("Relieve(%s): %v", c.method, err)
		}
		rep, err := RealizedGains(pieces, taxDay("2024-08-15"), taxDec("6000"))
		if err != nil {
			t.Fatalf("RealizedGains(%s): %v", c.method, err)
		}
		if !rep.LongTerm.Equal(taxDec(c.wantLong)) || !rep.ShortTerm.Equal(taxDec(c.wantShort)) || !rep.Total.Equal(taxDec(c.wantTotal)) {
			t.Errorf("%s: long %s short %s total %s, want %s, %s, %s", c.method, rep.LongTerm, rep.ShortTerm, rep.Total, c.wantLong, c.wantShort, c.wantTotal)
		}
		if len(rest) != 1 || !rest[0].Quantity.Equal(taxDec("50")) || !rest[0].CostPerShare.Equal(taxDec(c.wantRestCPS)) {
			t.Errorf("%s: remaining %s, want 50 @ %s", c.method, taxLotsString(rest), c.wantRestCPS)
		}
	}
}

// TestRealizedGainsProRata: proceeds 1,000 over pieces of 1, 1 and 1
// shares cannot split evenly in decimals; the lines must still add to
// exactly 1,000 and each be 333.33… to 10 places.
func TestRealizedGainsProRata(t *testing.T) {
	t.Parallel()
	var pieces []RelievedPiece
	for _, id := range []string{"a", "b", "c"} {
		pieces = append(pieces, RelievedPiece{LotID: id, Acquired: taxDay("2024-01-02"), Quantity: taxDec("1"), CostPerShare: taxDec("100"), Cost: taxDec("100")})
	}
	rep, err := RealizedGains(pieces, taxDay("2024-02-01"), taxDec("1000"))
	if err != nil {
		t.Fatalf("RealizedGains: %v", err)
	}
	sum := decimal.Zero
	for _, l := range rep.Lines {
		sum = sum.Add(l.Proceeds)
		if !l.Proceeds.Round(10).Equal(taxDec("333.3333333333")) {
			t.Errorf("lot %s proceeds %s, want 333.33…", l.LotID, l.Proceeds)
		}
	}
	if !sum.Equal(taxDec("1000")) || !rep.Total.Equal(taxDec("700")) {
		t.Errorf("proceeds sum %s total gain %s, want 1000 and 700", sum, rep.Total)
	}
	if _, err := RealizedGains(pieces, taxDay("2023-12-31"), taxDec("1000")); !errors.Is(err, ErrInvalid) {
		t.Errorf("sale before acquisition: error = %v, want ErrInvalid", err)
	}
	if _, err := RealizedGains(nil, taxDay("2024-02-01"), taxDec("1")); !errors.Is(err, ErrEmpty) {
		t.Errorf("no pieces: error = %v, want ErrEmpty", err)
	}
	if _, err := RealizedGains(pieces, taxDay("2024-02-01"), taxDec("-1")); !errors.Is(err, ErrInvalid) {
		t.Errorf("negative proceeds: error = %v, want ErrInvalid", err)
	}
}
