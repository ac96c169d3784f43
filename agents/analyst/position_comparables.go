package analyst

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/storage"
)

func (a *Analyst) positionComparables() agents.Def {
	return agents.Read(agents.Meta{
		Name: "position.get_comparables",
		Description: "Securities of the same sector (securities.sector) as the given one, itself excluded, with their close in the " +
			"run's pricing pack and, where fundamentals exist, market cap, P/E and margins from the newest fiscal year. " +
			"A security without a sector is insufficient_data.",
		Reads: []string{"securities", "pricing_packs", "prices", "fx_rates", "fundamentals"},
		Codes: []string{agents.CodeNotFound, agents.CodeInsufficientData, agents.CodePricingPackWarming},
	}, a.PositionComparables)
}

// ComparablesInput names a security.
type ComparablesInput struct {
	SecurityID uuid.UUID `json:"security_id" doc:"The security whose sector peers are listed."`
	Limit      int       `json:"limit,omitempty" jsonschema:"minimum=1,maximum=500,default=50" doc:"At most this many peers, by symbol."`
}

// Comparable is one peer.
type Comparable struct {
	Security SecurityInfo `json:"security"`
	// Close is null when the pack has no close for the peer.
	Close         *decimal.Decimal `json:"close" doc:"Close in the run's pack; null when the pack has none."`
	PriceCurrency string           `json:"price_currency,omitempty"`
	FiscalYear    *int             `json:"fiscal_year" doc:"Fiscal year of the statement the ratios use; null without fundamentals."`
	// Ratios are null when an input is missing; Notes say why.
	MarketCap       *float64 `json:"market_cap" doc:"close × shares outstanding, in the price currency."`
	PE              *float64 `json:"pe" doc:"Market cap / net income (statement converted into the price currency at the pack's rate when it differs); null when net income is not positive."`
	NetMargin       *float64 `json:"net_margin" doc:"net income / revenue."`
	OperatingMargin *float64 `json:"operating_margin" doc:"operating income / revenue."`
	GrossMargin     *float64 `json:"gross_margin" doc:"gross profit / revenue."`
	Notes           []string `json:"notes"`
}

// ComparablesOutput lists a security's sector peers.
type ComparablesOutput struct {
	Security   SecurityInfo      `json:"security"`
	Sector     string            `json:"sector"`
	Count      int               `json:"count"`
	Truncated  bool              `json:"truncated" doc:"More peers than limit."`
	Peers      []Comparable      `json:"peers" doc:"By symbol."`
	Provenance agents.Provenance `json:"provenance"`
}

// PositionComparables implements position.get_comparables.
func (a *Analyst) PositionComparables(ctx context.Context, c *agents.Call, in ComparablesInput) (ComparablesOutput, error) {
	pack, err := runPack(ctx, c)
	if err != nil {
		return ComparablesOutput{}, err
	}
	s, err := storage.GetSecurity(ctx, c.DB, in.SecurityID)
	if err != nil {
		return ComparablesOutput{}, err
	}
	if s.Sector == "" {
		return ComparablesOutput{}, agents.Errorf(agents.CodeInsufficientData, "%s (%s) has no sector (securities.sector), so it has no comparables", s.Symbol, s.ID)
	}
	all, err := storage.ListSecurities(ctx, c.DB, storage.SecurityFilter{Sector: s.Sector})
	if err != nil {
		return ComparablesOutput{}, err
	}
	var peers []storage.Security
	for _, p := range all {
		if p.ID != s.ID {
			peers = append(peers, p)
		}
	}
	sort.Slice(peers, func(i, j int) bool { return peers[i].Symbol < peers[j].Symbol })
	out := ComparablesOutput{Security: securityInfo(s), Sector: s.Sector, Peers: []Comparable{},
		Provenance: c.Provenance("securities of the same securities.sector; closes of the run's pack; ratios from the newest stored fiscal year",
			"ratios as decimal fractions (margins) or multiples (P/E); market cap in the price currency; statements converted at the pack's rate when in another currency")}
	if len(peers) > in.Limit {
		peers, out.Truncated = peers[:in.Limit], true
	}
	out.Count = len(peers)
	if len(peers) == 0 {
		return out, nil
	}
	ids := make([]uuid.UUID, len(peers))
	for i, p := range peers {
		ids[i] = p.ID
	}
	closes, err := storage.PackCloses(ctx, c.DB, pack.ID, ids)
	if err != nil {
		return ComparablesOutput{}, err
	}
	funds, err := storage.LatestFundamentals(ctx, c.DB, ids)
	if err != nil {
		return ComparablesOutput{}, err
	}
	for _, p := range peers {
		cmp, err := comparable(ctx, c.DB, pack.ID, p, closes, funds)
		if err != nil {
			return ComparablesOutput{}, err
		}
		out.Peers = append(out.Peers, cmp)
	}
	return out, nil
}

func comparable(ctx context.Context, q storage.Querier, packID string, p storage.Security, closes map[uuid.UUID]storage.Price, funds map[uuid.UUID]storage.Fundamentals) (Comparable, error) {
	cm := Comparable{Security: securityInfo(p), Notes: []string{}}
	pr, hasClose := closes[p.ID]
	if hasClose {
		cl := pr.Close
		cm.Close, cm.PriceCurrency = &cl, pr.Currency
	} else {
		cm.Notes = append(cm.Notes, "no close in pack "+packID)
	}
	f, hasFund := funds[p.ID]
	if !hasFund {
		cm.Notes = append(cm.Notes, "no fundamentals stored")
		return cm, nil
	}
	fy := f.FiscalYear
	cm.FiscalYear = &fy
	ratio := func(num, den decimal.NullDecimal) *float64 {
		if !num.Valid || !den.Valid || den.Decimal.IsZero() {
			return nil
		}
		r := num.Decimal.InexactFloat64() / den.Decimal.InexactFloat64()
		return &r
	}
	cm.NetMargin = ratio(f.NetIncome, f.Revenue)
	cm.OperatingMargin = ratio(f.OperatingIncome, f.Revenue)
	cm.GrossMargin = ratio(f.GrossProfit, f.Revenue)
	if !f.Revenue.Valid {
		cm.Notes = append(cm.Notes, "revenue not reported: no margins")
	}
	if !hasClose {
		return cm, nil
	}
	if !f.SharesOutstanding.Valid {
		cm.Notes = append(cm.Notes, "shares outstanding not reported: no market cap or P/E")
		return cm, nil
	}
	mc := pr.Close.Mul(f.SharesOutstanding.Decimal).InexactFloat64()
	cm.MarketCap = &mc
	if !f.NetIncome.Valid {
		cm.Notes = append(cm.Notes, "net income not reported: no P/E")
		return cm, nil
	}
	ni := f.NetIncome.Decimal
	if f.Currency != pr.Currency {
		rate, err := storage.FXRate(ctx, q, packID, f.Currency, pr.Currency)
		if err != nil && !errors.Is(err, storage.ErrMissingFX) {
			return Comparable{}, err
		}
		if err != nil {
			cm.Notes = append(cm.Notes, fmt.Sprintf("statement in %s, close in %s, and the pack has no rate between them: no P/E", f.Currency, pr.Currency))
			return cm, nil
		}
		ni = ni.Mul(rate)
	}
	if !ni.IsPositive() {
		cm.Notes = append(cm.Notes, "net income not positive: P/E not meaningful")
		return cm, nil
	}
	pe := mc / ni.InexactFloat64()
	cm.PE = &pe
	return cm, nil
}
