package storage_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/dawsos/dawsos/storage"
)

func TestPortfoliosAndSecurities(t *testing.T) {
	t.Parallel()
	f := setup(t, storage.CostBasisLIFO, "cad")
	pool := f.db.Pool()

	if f.pf.BaseCurrency != "CAD" || f.pf.CostBasisMethod != storage.CostBasisLIFO || !f.pf.Active {
		t.Errorf("created portfolio = %+v", f.pf)
	}
	_, err := storage.CreatePortfolio(f.ctx, pool, storage.Portfolio{OwnerID: f.user, Name: "Main", BaseCurrency: "CAD"})
	if !errors.Is(err, storage.ErrAlreadyExists) {
		t.Errorf("second portfolio named Main: err = %v, want ErrAlreadyExists", err)
	}
	usd, err := storage.CreatePortfolio(f.ctx, pool, storage.Portfolio{OwnerID: f.user, Name: "US", BaseCurrency: "USD",
		BenchmarkSecurityID: f.sec["NKE"].ID})
	if err != nil || usd.CostBasisMethod != storage.CostBasisFIFO || usd.BenchmarkSecurityID != f.sec["NKE"].ID || usd.Active {
		t.Errorf("create US portfolio = %+v, %v", usd, err)
	}
	got, err := storage.GetPortfolio(f.ctx, pool, usd.ID)
	if err != nil || got != usd {
		t.Errorf("GetPortfolio = %+v, %v; want %+v", got, err, usd)
	}
	missing := uuid.New()
	if _, err := storage.GetPortfolio(f.ctx, pool, missing); !errors.Is(err, storage.ErrNotFound) || !strings.Contains(err.Error(), missing.String()) {
		t.Errorf("GetPortfolio(missing) err = %v, want ErrNotFound naming the id", err)
	}
	for id, want := range map[uuid.UUID]bool{f.user: true, missing: false} {
		if ok, err := storage.UserExists(f.ctx, pool, id); err != nil || ok != want {
			t.Errorf("UserExists(%s) = %v, %v; want %v", id, ok, err, want)
		}
	}
	lists := []struct {
		filter storage.PortfolioFilter
		want   []string
	}{
		{storage.PortfolioFilter{}, []string{"Main", "US"}},
		{storage.PortfolioFilter{ActiveOnly: true}, []string{"Main"}},
		{storage.PortfolioFilter{OwnerID: f.user}, []string{"Main", "US"}},
		{storage.PortfolioFilter{OwnerID: missing}, nil},
	}
	for _, c := range lists {
		ps, err := storage.ListPortfolios(f.ctx, pool, c.filter)
		var names []string
		for _, p := range ps {
			names = append(names, p.Name)
		}
		if err != nil || strings.Join(names, ",") != strings.Join(c.want, ",") {
			t.Errorf("ListPortfolios(%+v) = %v, %v; want %v", c.filter, names, err, c.want)
		}
	}

	// Upsert by symbol keeps the id and updates the fields.
	nke := f.sec["NKE"]
	upd, err := storage.UpsertSecurity(f.ctx, pool, storage.Security{Symbol: "nke", Name: "NIKE Inc.", Type: storage.SecurityEquity,
		Currency: "usd", Sector: "Consumer Discretionary", Industry: "Footwear", Active: true})
	if err != nil || upd.ID != nke.ID || upd.Name != "NIKE Inc." || upd.Industry != "Footwear" || upd.Exchange != "" || upd.Currency != "USD" {
		t.Errorf("upsert NKE = %+v, %v; want id %s kept", upd, err, nke.ID)
	}
	if s, err := storage.GetSecurityBySymbol(f.ctx, pool, " nke "); err != nil || s.ID != nke.ID {
		t.Errorf("GetSecurityBySymbol(nke) = %+v, %v", s, err)
	}
	if _, err := storage.GetSecurityBySymbol(f.ctx, pool, "NOPE"); !errors.Is(err, storage.ErrNotFound) || !strings.Contains(err.Error(), "NOPE") {
		t.Errorf("GetSecurityBySymbol(NOPE) err = %v", err)
	}
	if s, err := storage.GetSecurity(f.ctx, pool, f.sec["EVO"].ID); err != nil || s.Symbol != "EVO" || s.Currency != "EUR" {
		t.Errorf("GetSecurity(EVO) = %+v, %v", s, err)
	}
	secLists := []struct {
		filter storage.SecurityFilter
		want   string
	}{
		{storage.SecurityFilter{}, "CNR,EVO,NKE,XYZ"},
		{storage.SecurityFilter{Sector: "Consumer Discretionary"}, "EVO,NKE"},
		{storage.SecurityFilter{Symbols: []string{"xyz", "CNR"}}, "CNR,XYZ"},
		{storage.SecurityFilter{IDs: []uuid.UUID{f.sec["EVO"].ID}}, "EVO"},
		{storage.SecurityFilter{Type: storage.SecurityETF}, ""},
	}
	for _, c := range secLists {
		ss, err := storage.ListSecurities(f.ctx, pool, c.filter)
		var syms []string
		for _, s := range ss {
			syms = append(syms, s.Symbol)
		}
		if err != nil || strings.Join(syms, ",") != c.want {
			t.Errorf("ListSecurities(%+v) = %v, %v; want %s", c.filter, syms, err, c.want)
		}
	}
}
