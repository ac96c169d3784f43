package storage_test

import (
	"errors"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"github.com/dawsos/dawsos/storage"
)

var hexHash = regexp.MustCompile(`^[0-9a-f]{64}$`)

// TestPackStatus: a pack is fresh when every held security has a close and
// every pair needed to value it in a holder's base currency has a rate (in
// either direction); otherwise error, naming what is missing.
func TestPackStatus(t *testing.T) {
	t.Parallel()
	f := setup(t, storage.CostBasisFIFO, "CAD")
	f.buy("2024-01-02", "XYZ", "1", "10", "")
	f.buy("2024-01-02", "NKE", "1", "10", "")
	cases := []struct {
		date          string
		prices        map[string]string
		rates         []storage.FXQuote
		status        string
		missingPrices []string
		missingFX     []string
	}{
		{"2024-01-03", map[string]string{"XYZ": "10", "NKE": "11"}, []storage.FXQuote{fx("USD", "CAD", "1.3")}, storage.PackFresh, nil, nil},
		{"2024-01-04", map[string]string{"XYZ": "10", "NKE": "11"}, []storage.FXQuote{fx("CAD", "USD", "0.75")}, storage.PackFresh, nil, nil},
		{"2024-01-05", map[string]string{"NKE": "11"}, []storage.FXQuote{fx("USD", "CAD", "1.3")}, storage.PackError, []string{"XYZ"}, nil},
		{"2024-01-08", map[string]string{"XYZ": "10", "NKE": "11"}, nil, storage.PackError, nil, []string{"USD/CAD"}},
		// Before the lots were acquired nothing is held.
		{"2024-01-01", map[string]string{}, nil, storage.PackFresh, nil, nil},
	}
	for _, c := range cases {
		p := f.buildPack(c.date, c.prices, c.rates)
		if p.ID != "PP_"+c.date || p.Status != c.status || !slices.Equal(p.MissingPrices, c.missingPrices) || !slices.Equal(p.MissingFX, c.missingFX) {
			t.Errorf("pack %s = %s %s missing %v %v, want PP_%s %s missing %v %v", c.date, p.ID, p.Status, p.MissingPrices, p.MissingFX,
				c.date, c.status, c.missingPrices, c.missingFX)
		}
		if !hexHash.MatchString(p.ContentHash) || p.FinalizedAt.IsZero() {
			t.Errorf("pack %s: hash %q finalised %v", c.date, p.ContentHash, p.FinalizedAt)
		}
	}
	// A final pack is immutable.
	err := storage.UpsertPrices(f.ctx, f.db.Pool(), "PP_2024-01-03", []storage.Price{{SecurityID: f.sec["XYZ"].ID, Close: dec("1")}})
	if !errors.Is(err, storage.ErrPackNotWarming) {
		t.Errorf("write to a fresh pack: err = %v, want ErrPackNotWarming", err)
	}
}

// TestPackRestatement: the hash follows the content (and the date); a
// restatement with other content supersedes the date's pack, one with the
// same content is dropped; PackForDate picks the newest fresh current pack
// on or before the date.
func TestPackRestatement(t *testing.T) {
	t.Parallel()
	f := setup(t, storage.CostBasisFIFO, "CAD")
	usd := []storage.FXQuote{fx("USD", "CAD", "1.35")}
	mon := f.buildPack("2024-01-08", map[string]string{"XYZ": "10.50"}, usd)
	tue := f.buildPack("2024-01-09", map[string]string{"XYZ": "10.5"}, usd)
	if mon.ContentHash == tue.ContentHash {
		t.Errorf("same closes on two dates hash alike: %s", mon.ContentHash)
	}
	wed := f.buildPack("2024-01-10", map[string]string{"XYZ": "10.5"}, usd)
	// Same content again: no restatement.
	same := f.buildPack("2024-01-10", map[string]string{"XYZ": "10.500"}, usd)
	if same.ID != wed.ID || same.ContentHash != wed.ContentHash {
		t.Errorf("unchanged rebuild = %s %s, want %s %s", same.ID, same.ContentHash, wed.ID, wed.ContentHash)
	}
	// Other content: PP_2024-01-10_r1 supersedes PP_2024-01-10.
	r1 := f.buildPack("2024-01-10", map[string]string{"XYZ": "10.6"}, usd)
	if r1.ID != "PP_2024-01-10_r1" || r1.Revision != 1 || r1.ContentHash == wed.ContentHash || r1.Status != storage.PackFresh {
		t.Errorf("restatement = %+v", r1)
	}
	old, err := storage.GetPack(f.ctx, f.db.Pool(), wed.ID)
	if err != nil || old.SupersededBy != r1.ID {
		t.Errorf("old pack superseded_by = %q (%v), want %s", old.SupersededBy, err, r1.ID)
	}
	// Rates alone change the hash too.
	r2 := f.buildPack("2024-01-10", map[string]string{"XYZ": "10.6"}, []storage.FXQuote{fx("USD", "CAD", "1.36")})
	if r2.ID != "PP_2024-01-10_r2" || r2.ContentHash == r1.ContentHash {
		t.Errorf("rate restatement = %s %s, r1 %s", r2.ID, r2.ContentHash, r1.ContentHash)
	}
	// Thursday's pack is in error: XYZ is held (bought Monday) and has no
	// close.
	f.buy("2024-01-08", "XYZ", "1", "10", "")
	thu := f.buildPack("2024-01-11", map[string]string{}, usd)
	if thu.Status != storage.PackError {
		t.Fatalf("thursday pack status = %s, want error", thu.Status)
	}
	cases := []struct {
		asOf string
		want string
	}{
		{"2024-01-07", ""},
		{"2024-01-08", "PP_2024-01-08"},
		{"2024-01-09", "PP_2024-01-09"},
		{"2024-01-10", "PP_2024-01-10_r2"},
		{"2024-01-11", "PP_2024-01-10_r2"},
		{"2024-01-14", "PP_2024-01-10_r2"},
	}
	for _, c := range cases {
		p, err := storage.PackForDate(f.ctx, f.db.Pool(), day(c.asOf))
		if c.want == "" {
			if !errors.Is(err, storage.ErrNoFreshPack) {
				t.Errorf("PackForDate(%s) = %s, %v; want ErrNoFreshPack", c.asOf, p.ID, err)
			}
			continue
		}
		if err != nil || p.ID != c.want {
			t.Errorf("PackForDate(%s) = %s, %v; want %s", c.asOf, p.ID, err, c.want)
		}
	}
}

// TestPackLookups: a missing close or rate is an error naming the security
// or pair, never 0 or 1; the same currency is exactly 1; a pair stored the
// other way round is inverted.
func TestPackLookups(t *testing.T) {
	t.Parallel()
	f := setup(t, storage.CostBasisFIFO, "CAD")
	p := f.buildPack("2024-01-08", map[string]string{"XYZ": "10", "NKE": "20"}, []storage.FXQuote{fx("USD", "CAD", "1.25")})
	pool := f.db.Pool()

	prices, err := storage.PricesInPack(f.ctx, pool, p.ID, []uuid.UUID{f.sec["XYZ"].ID, f.sec["NKE"].ID})
	if err != nil || !decEq(prices[f.sec["NKE"].ID].Close, "20") || prices[f.sec["NKE"].ID].Currency != "USD" {
		t.Errorf("PricesInPack = %+v, %v", prices, err)
	}
	_, err = storage.PricesInPack(f.ctx, pool, p.ID, []uuid.UUID{f.sec["XYZ"].ID, f.sec["EVO"].ID, f.sec["CNR"].ID})
	if !errors.Is(err, storage.ErrMissingPrice) || !strings.Contains(err.Error(), "EVO") || !strings.Contains(err.Error(), "CNR") || strings.Contains(err.Error(), "XYZ") {
		t.Errorf("PricesInPack with EVO and CNR missing: err = %v", err)
	}

	rates := []struct {
		from, to string
		want     string
		missing  bool
	}{
		{"USD", "CAD", "1.25", false},
		{"CAD", "USD", "0.8", false},
		{"CAD", "CAD", "1", false},
		{"EUR", "CAD", "", true},
		{"USD", "EUR", "", true},
	}
	for _, c := range rates {
		r, err := storage.FXRate(f.ctx, pool, p.ID, c.from, c.to)
		if c.missing {
			if !errors.Is(err, storage.ErrMissingFX) || !strings.Contains(err.Error(), c.from+"/"+c.to) {
				t.Errorf("FXRate %s/%s = %s, %v; want ErrMissingFX naming the pair", c.from, c.to, r, err)
			}
			continue
		}
		if err != nil || !r.Equal(decimal.RequireFromString(c.want)) {
			t.Errorf("FXRate %s/%s = %s, %v; want %s", c.from, c.to, r, err, c.want)
		}
	}
}

// TestBeginPackResumes: a warming pack is resumed, not duplicated, and
// FinalizePack of a final pack returns it unchanged.
func TestBeginPackResumes(t *testing.T) {
	t.Parallel()
	f := setup(t, storage.CostBasisFIFO, "CAD")
	err := f.db.Tx(f.ctx, func(tx pgx.Tx) error {
		a, err := storage.BeginPack(f.ctx, tx, day("2024-02-01"), "")
		if err != nil {
			return err
		}
		b, err := storage.BeginPack(f.ctx, tx, day("2024-02-01"), "")
		if err != nil {
			return err
		}
		if a.ID != b.ID || a.Status != storage.PackWarming || a.Policy != "close" {
			t.Errorf("BeginPack twice = %+v, %+v", a, b)
		}
		p1, err := storage.FinalizePack(f.ctx, tx, a.ID)
		if err != nil {
			return err
		}
		p2, err := storage.FinalizePack(f.ctx, tx, a.ID)
		if err != nil {
			return err
		}
		if p1.ContentHash != p2.ContentHash || p2.Status != storage.PackFresh {
			t.Errorf("finalize twice = %+v, %+v", p1, p2)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
