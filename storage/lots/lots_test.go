package lots_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/dawsos/dawsos/storage/lots"
)

// These tests came with the relief code from quant/taxlots_test.go. Where
// the ledger's semantics (which this package keeps) differ from the old
// quant implementation, the case says so in a comment.

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func day(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

// id gives a test lot name a fixed uuid; name turns the uuids of the
// names below back into names, so failures print them.
func id(name string) uuid.UUID {
	return uuid.NewSHA1(uuid.NameSpaceOID, []byte("dawsos test lot "+name))
}

var lotNames = map[uuid.UUID]string{}

func init() {
	for _, n := range []string{"A", "B", "C", "D", "Z", "1", "2", "3", "L", "a", "b", "c", "old", "new", "p60", "p80", "g", "x", "y"} {
		lotNames[id(n)] = n
	}
}

func name(u uuid.UUID) string {
	if n, ok := lotNames[u]; ok {
		return n
	}
	return u.String()
}

// lot is a lot of qty shares at cps a share; the cost is qty x cps.
func lot(n, acquired, qty, cps string) lots.Lot {
	return lots.Open(id(n), day(acquired), dec(qty), dec(qty).Mul(dec(cps)))
}

// testLots: four lots of one security, 270 shares costing
// 1000 + 750 + 960 + 320 = 3030 in total.
func testLots() []lots.Lot {
	return []lots.Lot{
		lot("C", "2021-03-01", "80", "12"),
		lot("A", "2020-01-10", "100", "10"),
		lot("D", "2021-09-15", "40", "8"),
		lot("B", "2020-06-01", "50", "15"),
	}
}

// reliefsString prints each relief as lot:quantity@cost per share=cost,
// the cost per share being cost / quantity.
func reliefsString(rs []lots.Relief) string {
	s := ""
	for _, r := range rs {
		s += fmt.Sprintf("%s:%s@%s=%s ", name(r.LotID), r.Quantity, r.Cost.Div(r.Quantity).StringFixed(4), r.Cost.StringFixed(4))
	}
	return s
}

// lotsString prints the lots with a positive quantity.
func lotsString(ls []lots.Lot) string {
	s := ""
	for _, l := range ls {
		if l.Quantity.IsPositive() {
			s += fmt.Sprintf("%s:%s@%s ", name(l.ID), l.Quantity, l.CostPerShare.StringFixed(4))
		}
	}
	return s
}

// TestRelieve sells 170 of the 270 shares by each method; expected reliefs
// are hand computed from the lots above (each crosses lot boundaries and
// ends with a partial lot). Lots left are in input order.
func TestRelieve(t *testing.T) {
	t.Parallel()
	cases := []struct {
		method      lots.Method
		named       []string
		qty         string
		wantReliefs string
		wantCost    string
		wantRest    string
	}{
		// Oldest first: A 100×10, B 50×15, C 20×12 = 1000+750+240.
		{lots.FIFO, nil, "170", "A:100@10.0000=1000.0000 B:50@15.0000=750.0000 C:20@12.0000=240.0000 ", "1990", "C:60@12.0000 D:40@8.0000 "},
		// Newest first: D 40×8, C 80×12, B 50×15 = 320+960+750.
		{lots.LIFO, nil, "170", "D:40@8.0000=320.0000 C:80@12.0000=960.0000 B:50@15.0000=750.0000 ", "2030", "A:100@10.0000 "},
		// Dearest first: B 50×15, C 80×12, A 40×10 = 750+960+400.
		{lots.HIFO, nil, "170", "B:50@15.0000=750.0000 C:80@12.0000=960.0000 A:40@10.0000=400.0000 ", "2110", "A:60@10.0000 D:40@8.0000 "},
		// Named order D, A, C: 40×8 + 100×10 + 30×12 = 320+1000+360.
		{lots.SpecificLot, []string{"D", "A", "C"}, "170", "D:40@8.0000=320.0000 A:100@10.0000=1000.0000 C:30@12.0000=360.0000 ", "1680", "C:50@12.0000 B:50@15.0000 "},
		// A named lot overrides FIFO (a broker's lot instruction): 30 of D.
		{lots.FIFO, []string{"D"}, "30", "D:30@8.0000=240.0000 ", "240", "C:80@12.0000 A:100@10.0000 D:10@8.0000 B:50@15.0000 "},
		// Average 3030/270 = 11.2222…; quantity dated FIFO: 100, 50, 20.
		// Relieved 3030 × 170/270 = 1907.7777777778 (10 places), shared
		// pro rata to the pieces: 1907.7777777778 × 100/170 =
		// 1122.2222222222, × 50/170 = 561.1111111111, and C the rest,
		// 224.4444444445. Total 1907.78 to cents. The 100 left share
		// 3030 − 1907.7777777778 = 1122.2222222222 at 11.2222222222 each.
		// (quant carried 16 digits and priced each piece at the average;
		// the ledger rounds to 10 places and gives the last piece the
		// remainder, which is what is kept.)
		{lots.AverageCost, nil, "170", "A:100@11.2222=1122.2222 B:50@11.2222=561.1111 C:20@11.2222=224.4444 ", "1907.78", "C:60@11.2222 D:40@11.2222 "},
		// Whole position at average cost relieves exactly the total cost.
		{lots.AverageCost, nil, "270", "A:100@11.2222=1122.2222 B:50@11.2222=561.1111 C:80@11.2222=897.7778 D:40@11.2222=448.8889 ", "3030", ""},
		// Fractional shares stay exact: FIFO 100.5 = A 100×10 + B 0.5×15.
		{lots.FIFO, nil, "100.5", "A:100@10.0000=1000.0000 B:0.5@15.0000=7.5000 ", "1007.5", "C:80@12.0000 D:40@8.0000 B:49.5@15.0000 "},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%s_%s_%v", c.method, c.qty, c.named), func(t *testing.T) {
			t.Parallel()
			in := testLots()
			var named []uuid.UUID
			for _, n := range c.named {
				named = append(named, id(n))
			}
			reliefs, rest, err := lots.Relieve(in, dec(c.qty), c.method, named...)
			if err != nil {
				t.Fatalf("Relieve(%s, %s, %v): %v", c.qty, c.method, c.named, err)
			}
			if got := reliefsString(reliefs); got != c.wantReliefs {
				t.Errorf("Relieve(%s, %s) reliefs = %q, want %q", c.qty, c.method, got, c.wantReliefs)
			}
			cost := decimal.Zero
			for _, r := range reliefs {
				cost = cost.Add(r.Cost)
			}
			if got := cost.Round(2); !got.Equal(dec(c.wantCost)) {
				t.Errorf("Relieve(%s, %s) cost = %s, want %s", c.qty, c.method, cost, c.wantCost)
			}
			if got := lotsString(rest); got != c.wantRest {
				t.Errorf("Relieve(%s, %s) remaining = %q, want %q", c.qty, c.method, got, c.wantRest)
			}
			// Nothing is lost: cost relieved + cost left = 3030 exactly.
			left := decimal.Zero
			for _, l := range rest {
				left = left.Add(l.Cost)
			}
			if !cost.Add(left).Equal(dec("3030")) {
				t.Errorf("Relieve(%s, %s): relieved %s + left %s, want 3030", c.qty, c.method, cost, left)
			}
			if lotsString(in) != lotsString(testLots()) {
				t.Errorf("Relieve modified its input: %s", lotsString(in))
			}
		})
	}
}

// TestRelieveLedgerCases are the ledger's semantics that the quant version
// did not share, each computed by hand.
func TestRelieveLedgerCases(t *testing.T) {
	t.Parallel()
	t.Run("AVERAGE_COST re-costs the lots left", func(t *testing.T) {
		t.Parallel()
		// storage's TestLotRelief: L1 100 @ 10, L2 50 @ 14, L3 80 @ 12
		// (2660 for 230); sell 120: relieved 2660 × 120/230 =
		// 1387.8260869565; the 110 left share 1272.1739130435: L2 30 ×
		// 1272.1739130435/110 = 346.9565217391, L3 the rest 925.2173913044,
		// each at 1272.1739130435/110 = 11.5652173913 a share.
		in := []lots.Lot{lot("1", "2024-01-02", "100", "10"), lot("2", "2024-02-01", "50", "14"), lot("3", "2024-03-01", "80", "12")}
		_, rest, err := lots.Relieve(in, dec("120"), lots.AverageCost)
		if err != nil {
			t.Fatal(err)
		}
		want := []struct{ qty, cost, cps string }{{"0", "0", "10"}, {"30", "346.9565217391", "11.5652173913"}, {"80", "925.2173913044", "11.5652173913"}}
		for i, w := range want {
			if l := rest[i]; !l.Quantity.Equal(dec(w.qty)) || !l.Cost.Equal(dec(w.cost)) || !l.CostPerShare.Equal(dec(w.cps)) {
				t.Errorf("lot %d after = %s @ %s costing %s, want %s @ %s costing %s", i+1, l.Quantity, l.CostPerShare, l.Cost, w.qty, w.cps, w.cost)
			}
		}
	})
	t.Run("HIFO ties go in acquisition order", func(t *testing.T) {
		t.Parallel()
		// x and y both cost 10 a share; y was acquired first, so HIFO
		// takes y's 5 and then 1 of x, whatever the input order. Costs per
		// share equal to 10 places tie (the ledger stores them so).
		in := []lots.Lot{lot("x", "2024-02-01", "5", "10"), lot("y", "2024-01-01", "5", "10"), lot("D", "2024-01-15", "5", "9")}
		reliefs, _, err := lots.Relieve(in, dec("6"), lots.HIFO)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := reliefsString(reliefs), "y:5@10.0000=50.0000 x:1@10.0000=10.0000 "; got != want {
			t.Errorf("reliefs = %q, want %q", got, want)
		}
	})
	t.Run("partial relief keeps the cost exact", func(t *testing.T) {
		t.Parallel()
		// 3 shares costing 10: taking 1 relieves 10/3 = 3.3333333333 and
		// leaves 6.6666666667, not 2 × 3.3333333333.
		in := []lots.Lot{lots.Open(id("L"), day("2024-01-02"), dec("3"), dec("10"))}
		reliefs, rest, err := lots.Relieve(in, dec("1"), lots.FIFO)
		if err != nil {
			t.Fatal(err)
		}
		if !reliefs[0].Cost.Equal(dec("3.3333333333")) || !rest[0].Cost.Equal(dec("6.6666666667")) || !rest[0].CostPerShare.Equal(dec("3.3333333333")) {
			t.Errorf("relieved %s, left %s @ %s; want 3.3333333333, 6.6666666667 @ 3.3333333333", reliefs[0].Cost, rest[0].Cost, rest[0].CostPerShare)
		}
	})
	t.Run("split", func(t *testing.T) {
		t.Parallel()
		// storage's TestSplit: 100 @ 50 + 10 fees = 5010; 2-for-1 gives
		// 200 at 25.05; then 1-for-4 gives 50 at 100.2; total unchanged.
		l := lots.Open(id("L"), day("2024-01-02"), dec("100"), dec("5010")).Split(dec("2"))
		if !l.Quantity.Equal(dec("200")) || !l.CostPerShare.Equal(dec("25.05")) || !l.Cost.Equal(dec("5010")) {
			t.Errorf("after 2-for-1: %+v", l)
		}
		if l = l.Split(dec("0.25")); !l.Quantity.Equal(dec("50")) || !l.CostPerShare.Equal(dec("100.2")) || !l.Cost.Equal(dec("5010")) {
			t.Errorf("after 1-for-4: %+v", l)
		}
	})
}

func TestRelieveErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		lots   []lots.Lot
		qty    string
		method lots.Method
		named  []string
		want   error
		held   string // for an *InsufficientError
	}{
		{"oversell", testLots(), "270.01", lots.FIFO, nil, lots.ErrInsufficient, "270"},
		{"oversell no lots", nil, "1", lots.LIFO, nil, lots.ErrInsufficient, "0"},
		{"specific lots too small", testLots(), "150", lots.SpecificLot, []string{"D", "A"}, lots.ErrInsufficient, "140"},
		// quant called an unknown id invalid; the ledger treats a lot that
		// is not open as holding nothing, which is kept.
		{"specific unknown id", testLots(), "10", lots.SpecificLot, []string{"Z"}, lots.ErrInsufficient, "0"},
		{"specific repeated id", testLots(), "10", lots.SpecificLot, []string{"A", "A"}, lots.ErrInvalid, ""},
		{"specific no ids", testLots(), "10", lots.SpecificLot, nil, lots.ErrInvalid, ""},
		// The ledger's rule: AVERAGE_COST relieves no named lot.
		{"named under average cost", testLots(), "10", lots.AverageCost, []string{"A"}, lots.ErrInvalid, ""},
		{"zero quantity", testLots(), "0", lots.FIFO, nil, lots.ErrInvalid, ""},
		{"unknown method", testLots(), "10", lots.Method("LOWEST"), nil, lots.ErrInvalid, ""},
		{"duplicate lot ids", []lots.Lot{lot("A", "2024-01-02", "1", "1"), lot("A", "2024-01-03", "1", "1")}, "1", lots.FIFO, nil, lots.ErrInvalid, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			var named []uuid.UUID
			for _, n := range c.named {
				named = append(named, id(n))
			}
			_, _, err := lots.Relieve(c.lots, dec(c.qty), c.method, named...)
			if !errors.Is(err, c.want) {
				t.Fatalf("Relieve(%s, %s, %v) error = %v, want %v", c.qty, c.method, c.named, err, c.want)
			}
			var ie *lots.InsufficientError
			if c.held != "" && (!errors.As(err, &ie) || !ie.Held.Equal(dec(c.held)) || !ie.Requested.Equal(dec(c.qty))) {
				t.Errorf("Relieve(%s, %s, %v) error = %#v, want held %s requested %s", c.qty, c.method, c.named, err, c.held, c.qty)
			}
		})
	}
}

// TestHoldingPeriodBoundary: bought 2023-01-01; 2024-01-01 is 365 days
// later (2023 is not a leap year) → short-term; 2024-01-02 is 366 → long.
func TestHoldingPeriodBoundary(t *testing.T) {
	t.Parallel()
	relief := []lots.Relief{{LotID: id("L"), Acquired: day("2023-01-01"), Quantity: dec("10"), Cost: dec("50")}}
	cases := []struct {
		sold     string
		days     int
		longTerm bool
	}{
		{"2024-01-01", 365, false},
		{"2024-01-02", 366, true},
	}
	for _, c := range cases {
		s, err := lots.RealizedGains(relief, day(c.sold), dec("80"))
		if err != nil {
			t.Fatalf("RealizedGains(sold %s): %v", c.sold, err)
		}
		l := s.Lines[0]
		if l.HoldingDays != c.days || l.LongTerm != c.longTerm {
			t.Errorf("sold %s: holding %d days long-term %v, want %d and %v", c.sold, l.HoldingDays, l.LongTerm, c.days, c.longTerm)
		}
		st, lt := "30", "0"
		if c.longTerm {
			st, lt = "0", "30"
		}
		if !s.ShortTerm.Equal(dec(st)) || !s.LongTerm.Equal(dec(lt)) {
			t.Errorf("sold %s: short %s long %s, want %s and %s", c.sold, s.ShortTerm, s.LongTerm, st, lt)
		}
	}
	// Clock time and zone do not move the count: 23:30 in New York on the
	// 365th day is still day 365.
	ny, err := time.LoadLocation("America/New_York")
	if err == nil {
		s, err := lots.RealizedGains(relief, time.Date(2024, 1, 1, 23, 30, 0, 0, ny), dec("80"))
		if err != nil || s.Lines[0].HoldingDays != 365 {
			t.Errorf("late-evening sale: holding %d days, err %v; want 365", s.Lines[0].HoldingDays, err)
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
	in := []lots.Lot{lot("1", "2023-01-10", "100", "20"), lot("2", "2024-03-01", "100", "30")}
	cases := []struct {
		method                 lots.Method
		wantLong, wantShort    string
		wantTotal, wantRestCPS string
	}{
		{lots.FIFO, "2000", "500", "2500", "30"},
		{lots.AverageCost, "1500", "750", "2250", "25"},
	}
	for _, c := range cases {
		reliefs, rest, err := lots.Relieve(in, dec("150"), c.method)
		if err != nil {
			t.Fatalf("Relieve(%s): %v", c.method, err)
		}
		s, err := lots.RealizedGains(reliefs, day("2024-08-15"), dec("6000"))
		if err != nil {
			t.Fatalf("RealizedGains(%s): %v", c.method, err)
		}
		if !s.LongTerm.Equal(dec(c.wantLong)) || !s.ShortTerm.Equal(dec(c.wantShort)) || !s.Total.Equal(dec(c.wantTotal)) {
			t.Errorf("%s: long %s short %s total %s, want %s, %s, %s", c.method, s.LongTerm, s.ShortTerm, s.Total, c.wantLong, c.wantShort, c.wantTotal)
		}
		if got, want := lotsString(rest), "2:50@"+dec(c.wantRestCPS).StringFixed(4)+" "; got != want {
			t.Errorf("%s: remaining %s, want %s", c.method, got, want)
		}
	}
}

// TestRealizedGainsProRata: proceeds 1,000 over reliefs of 1, 1 and 1
// shares cannot split evenly in decimals; the lines must still add to
// exactly 1,000. The ledger rounds shares to 10 places and gives the last
// the remainder: 333.3333333333, 333.3333333333 and 1000 − 666.6666666666
// = 333.3333333334. (quant carried 16 digits, so all three rounded to
// 333.3333333333 at 10 places; the ledger's figures are kept.)
func TestRealizedGainsProRata(t *testing.T) {
	t.Parallel()
	var reliefs []lots.Relief
	for _, n := range []string{"a", "b", "c"} {
		reliefs = append(reliefs, lots.Relief{LotID: id(n), Acquired: day("2024-01-02"), Quantity: dec("1"), Cost: dec("100")})
	}
	s, err := lots.RealizedGains(reliefs, day("2024-02-01"), dec("1000"))
	if err != nil {
		t.Fatalf("RealizedGains: %v", err)
	}
	sum := decimal.Zero
	for i, want := range []string{"333.3333333333", "333.3333333333", "333.3333333334"} {
		l := s.Lines[i]
		sum = sum.Add(l.Proceeds)
		if !l.Proceeds.Equal(dec(want)) {
			t.Errorf("lot %s proceeds %s, want %s", name(l.LotID), l.Proceeds, want)
		}
	}
	if !sum.Equal(dec("1000")) || !s.Total.Equal(dec("700")) || !s.Cost.Equal(dec("300")) {
		t.Errorf("proceeds sum %s total gain %s cost %s, want 1000, 700 and 300", sum, s.Total, s.Cost)
	}
	if _, err := lots.RealizedGains(reliefs, day("2023-12-31"), dec("1000")); !errors.Is(err, lots.ErrInvalid) {
		t.Errorf("sale before acquisition: error = %v, want ErrInvalid", err)
	}
	// quant answered ErrEmpty; this package has two sentinels only.
	if _, err := lots.RealizedGains(nil, day("2024-02-01"), dec("1")); !errors.Is(err, lots.ErrInvalid) {
		t.Errorf("no reliefs: error = %v, want ErrInvalid", err)
	}
	// quant refused negative proceeds; the ledger books fees above the
	// gross amount as a loss: -1 for 300 of cost is a loss of 301, and the
	// shares are -0.3333333333, -0.3333333333, -0.3333333334.
	s, err = lots.RealizedGains(reliefs, day("2024-02-01"), dec("-1"))
	if err != nil || !s.Total.Equal(dec("-301")) || !s.Lines[2].Proceeds.Equal(dec("-0.3333333334")) {
		t.Errorf("negative proceeds: total %s, last share %v, err %v; want -301 and -0.3333333334", s.Total, s.Lines, err)
	}
}

func BenchmarkRelieve(b *testing.B) {
	var in []lots.Lot
	for i := range 50 {
		in = append(in, lots.Open(uuid.New(), day("2020-01-01").AddDate(0, 0, i), decimal.NewFromInt(int64(10+i)), decimal.NewFromInt(int64(1000+37*i))))
	}
	for _, m := range []lots.Method{lots.FIFO, lots.HIFO, lots.AverageCost} {
		b.Run(string(m), func(b *testing.B) {
			for b.Loop() {
				if _, _, err := lots.Relieve(in, dec("333.5"), m); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
