package lots_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/dawsos/dawsos/storage/lots"
)

// These tests came with the wash-sale code from quant/washsale_test.go.
// Lot ids are uuids now, so a matched part split out of a purchase is
// printed name/washN from its Part, where quant named it so.

// washSaleFixture sells all of one lot and returns the realised sale.
func washSaleFixture(t *testing.T, l lots.Lot, sold time.Time, proceeds string) lots.Sale {
	t.Helper()
	reliefs, _, err := lots.Relieve([]lots.Lot{l}, l.Quantity, lots.FIFO)
	if err != nil {
		t.Fatalf("Relieve: %v", err)
	}
	s, err := lots.RealizedGains(reliefs, sold, dec(proceeds))
	if err != nil {
		t.Fatalf("RealizedGains: %v", err)
	}
	return s
}

func replacementsString(rs []lots.Replacement) string {
	s := ""
	for _, r := range rs {
		n := name(r.ID)
		if r.Part > 0 {
			n = fmt.Sprintf("%s/wash%d", n, r.Part)
		}
		s += fmt.Sprintf("%s:%s@%s ", n, r.Quantity, r.CostPerShare.StringFixed(4))
	}
	return s
}

// TestWashSalePub550Example is the example in IRS Publication 550
// ("Wash Sales"; also the IRS VITA "Case Study 1: Wash Sales"): buy 100
// shares for $1,000, sell them for $750, and within 30 days buy 100 shares
// for $800; the $250 loss is disallowed and the new basis is $1,050. The
// dates are ours (the publication gives none): bought 2024-01-02, sold
// 2024-03-01 (59 days held), rebought 2024-03-15, so the replacement's
// holding period starts 59 days earlier, on 2024-01-16.
func TestWashSalePub550Example(t *testing.T) {
	t.Parallel()
	s := washSaleFixture(t, lot("old", "2024-01-02", "100", "10"), day("2024-03-01"), "750")
	res, err := lots.WashSales(s, []lots.Lot{lot("new", "2024-03-15", "100", "8")})
	if err != nil {
		t.Fatalf("WashSales: %v", err)
	}
	if !res.Loss.Equal(dec("250")) || !res.Disallowed.Equal(dec("250")) || !res.Allowed.IsZero() {
		t.Errorf("loss %s disallowed %s allowed %s, want 250, 250, 0", res.Loss, res.Disallowed, res.Allowed)
	}
	if len(res.Replacements) != 1 {
		t.Fatalf("replacements %s, want one lot", replacementsString(res.Replacements))
	}
	r := res.Replacements[0]
	if r.ID != id("new") || r.Part != 0 || !r.Adjusted || !r.Cost.Equal(dec("1050")) || !r.Acquired.Equal(day("2024-01-16")) {
		t.Errorf("replacement %s part %d basis %s acquired %s, want new, 0, 1050, 2024-01-16", name(r.ID), r.Part, r.Cost, r.Acquired.Format(time.DateOnly))
	}
	if len(res.Matches) != 1 || res.Matches[0].TackedDays != 59 || res.Matches[0].Part != 0 || res.Matches[0].ReplacementLotID != id("new") {
		t.Errorf("matches %+v, want one with 59 tacked days on new", res.Matches)
	}
}

// TestWashSaleWindow: loss sale of 100 shares bought at 10 (cost 1,000)
// for 750 on 2024-06-15; one replacement purchase of qty shares at 8.
// Disallowed = 250 × min(1, qty/100) (Pub. 550: matched shares only);
// hand computed: 75 shares → 187.50 disallowed, 62.50 allowed, and the
// 75 replacement shares' basis rises from 600 to 787.50.
func TestWashSaleWindow(t *testing.T) {
	t.Parallel()
	sold := day("2024-06-15")
	cases := []struct {
		name       string
		bought     string
		qty        string
		disallowed string
		basis      string // adjusted basis of the matched replacement shares
	}{
		{"30 days after", "2024-07-15", "100", "250", "1050"},
		{"30 days before", "2024-05-16", "100", "250", "1050"},
		{"same day", "2024-06-15", "100", "250", "1050"},
		{"31 days after", "2024-07-16", "100", "0", ""},
		{"31 days before", "2024-05-15", "100", "0", ""},
		{"fewer replacement shares", "2024-06-20", "75", "187.5", "787.5"},
		{"more replacement shares", "2024-06-20", "150", "250", "1050"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			s := washSaleFixture(t, lot("old", "2023-01-10", "100", "10"), sold, "750")
			res, err := lots.WashSales(s, []lots.Lot{lot("new", c.bought, c.qty, "8")})
			if err != nil {
				t.Fatalf("WashSales: %v", err)
			}
			if !res.Disallowed.Equal(dec(c.disallowed)) || !res.Allowed.Equal(dec("250").Sub(dec(c.disallowed))) {
				t.Errorf("bought %s qty %s: disallowed %s allowed %s, want %s and the rest of 250", c.bought, c.qty, res.Disallowed, res.Allowed, c.disallowed)
			}
			if c.basis == "" {
				if len(res.Matches) != 0 || replacementsString(res.Replacements) != "new:"+c.qty+"@8.0000 " || res.Replacements[0].Adjusted {
					t.Errorf("bought %s: matches %+v replacements %s, want none and the lot unchanged", c.bought, res.Matches, replacementsString(res.Replacements))
				}
				return
			}
			adj := res.Replacements[0]
			if !adj.Cost.Equal(dec(c.basis)) || !adj.Adjusted {
				t.Errorf("bought %s qty %s: adjusted lot %s basis %s, want %s", c.bought, c.qty, name(adj.ID), adj.Cost, c.basis)
			}
			// Held 2023-01-10 → 2024-06-15 = 522 days, tacked on.
			if want := day(c.bought).AddDate(0, 0, -522); !adj.Acquired.Equal(want) {
				t.Errorf("adjusted acquired %s, want %s", adj.Acquired.Format(time.DateOnly), want.Format(time.DateOnly))
			}
			if c.qty == "150" {
				// 100 matched shares split out (800 of the 1,200 basis +
				// 250); 50 keep the original basis (400) and date.
				if got := replacementsString(res.Replacements); got != "new/wash1:100@10.5000 new:50@8.0000 " {
					t.Errorf("replacements %q, want the split new/wash1 100 @ 10.50 and new 50 @ 8", got)
				}
				if rest := res.Replacements[1]; !rest.Cost.Equal(dec("400")) || rest.Adjusted || !rest.Acquired.Equal(day(c.bought)) {
					t.Errorf("unmatched rest %+v, want 50 costing 400 bought %s", rest, c.bought)
				}
			}
		})
	}
}

// TestWashSaleMatchingOrder: 100 shares sold at a loss of 300 (3 a share);
// replacements of 60 (bought 5 days after) and 80 (bought 3 days before)
// are matched in the order bought (Pub. 550): the 80 first, then 20 of the
// 60. Disallowed = 300 in full; the 80-share lot's basis rises by 240,
// the 20-share part by 60 and is split out; 40 shares stay unadjusted.
// A gain sale in the same window is not a wash sale.
func TestWashSaleMatchingOrder(t *testing.T) {
	t.Parallel()
	s := washSaleFixture(t, lot("old", "2024-01-02", "100", "10"), day("2024-04-10"), "700")
	purchases := []lots.Lot{
		lot("p60", "2024-04-15", "60", "7"),
		lot("p80", "2024-04-07", "80", "7.5"),
		lot("old", "2024-01-02", "100", "10"), // the sold lot itself
	}
	res, err := lots.WashSales(s, purchases)
	if err != nil {
		t.Fatalf("WashSales: %v", err)
	}
	if !res.Disallowed.Equal(dec("300")) {
		t.Errorf("disallowed %s, want 300", res.Disallowed)
	}
	want := "p60/wash1:20@10.0000 p60:40@7.0000 p80:80@10.5000 old:100@10.0000 "
	if got := replacementsString(res.Replacements); got != want {
		t.Errorf("replacements %q, want %q", got, want)
	}
	if len(res.Matches) != 2 || res.Matches[0].ReplacementLotID != id("p80") || !res.Matches[0].DisallowedLoss.Equal(dec("240")) ||
		res.Matches[1].ReplacementLotID != id("p60") || res.Matches[1].Part != 1 || !res.Matches[1].DisallowedLoss.Equal(dec("60")) {
		t.Errorf("matches %+v, want p80 240 then p60/wash1 60", res.Matches)
	}

	gain := washSaleFixture(t, lot("g", "2024-01-02", "10", "10"), day("2024-04-10"), "150")
	res, err = lots.WashSales(gain, purchases[:1])
	if err != nil || !res.Disallowed.IsZero() || len(res.Matches) != 0 {
		t.Errorf("gain sale: disallowed %s matches %d err %v, want none", res.Disallowed, len(res.Matches), err)
	}
	dup := []lots.Lot{purchases[0], purchases[0]}
	if _, err := lots.WashSales(s, dup); !errors.Is(err, lots.ErrInvalid) {
		t.Errorf("duplicate purchase ids: error = %v, want ErrInvalid", err)
	}
}
