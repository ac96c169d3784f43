package analyst

import (
	"context"
	"fmt"
	"sort"

	"github.com/shopspring/decimal"

	"github.com/dawsos/dawsos/agents"
)

func (a *Analyst) sectorAllocation() agents.Def {
	return agents.Compute(agents.Meta{
		Name:        "portfolio.sector_allocation",
		Description: "Value and weight per sector (from securities.sector) of valued positions, cash as its own line.",
	}, a.SectorAllocation)
}

// SectorAllocationInput takes valued positions (from
// portfolio.get_valued_positions or pricing.apply_pack).
type SectorAllocationInput struct {
	Positions  []SectorPosition `json:"positions" doc:"Valued positions; only their symbol, sector and market value are read."`
	TotalValue decimal.Decimal  `json:"total_value" doc:"The portfolio's total in the base currency; what the positions do not account for is shown as cash."`
}

// SectorPosition is what the allocation reads of a valued position.
type SectorPosition struct {
	Symbol      string          `json:"symbol"`
	Sector      string          `json:"sector"`
	MarketValue decimal.Decimal `json:"market_value"`
}

// SectorWeight is one sector's share.
type SectorWeight struct {
	Sector    string          `json:"sector"`
	Value     decimal.Decimal `json:"value"`
	Weight    decimal.Decimal `json:"weight"`
	Positions int             `json:"positions"`
}

// SectorAllocationOutput lists sectors by value, largest first.
type SectorAllocationOutput struct {
	Sectors    []SectorWeight  `json:"sectors"`
	TotalValue decimal.Decimal `json:"total_value"`
	// Convention: weights are decimal fractions of total_value.
	Convention string `json:"convention"`
}

// CashSector labels the part of the total not held in positions.
const CashSector = "Cash"

// SectorAllocation implements portfolio.sector_allocation. The sector comes
// from each security's row (securities.sector), never from a map in code; a
// security without one is reported as an error naming it.
func (a *Analyst) SectorAllocation(ctx context.Context, _ *agents.Call, in SectorAllocationInput) (SectorAllocationOutput, error) {
	if in.TotalValue.Sign() < 0 {
		return SectorAllocationOutput{}, agents.FieldError("total_value", "total_value %s is negative", in.TotalValue)
	}
	by := map[string]*SectorWeight{}
	invested := decimal.Zero
	for i, p := range in.Positions {
		if p.Sector == "" {
			return SectorAllocationOutput{}, agents.FieldError(fmt.Sprintf("positions[%d].sector", i), "security %s has no sector", p.Symbol)
		}
		s, ok := by[p.Sector]
		if !ok {
			s = &SectorWeight{Sector: p.Sector}
			by[p.Sector] = s
		}
		s.Value = s.Value.Add(p.MarketValue)
		s.Positions++
		invested = invested.Add(p.MarketValue)
	}
	if cash := in.TotalValue.Sub(invested); cash.Sign() != 0 {
		// A cash fund may already carry the sector "Cash"; the
		// uninvested cash joins it rather than replacing it.
		s, ok := by[CashSector]
		if !ok {
			s = &SectorWeight{Sector: CashSector}
			by[CashSector] = s
		}
		s.Value = s.Value.Add(cash)
	}
	out := SectorAllocationOutput{Sectors: []SectorWeight{}, TotalValue: in.TotalValue, Convention: "weight = sector value / total_value, decimal fraction"}
	for _, s := range by {
		if !in.TotalValue.IsZero() {
			s.Weight = s.Value.DivRound(in.TotalValue, weightScale)
		}
		out.Sectors = append(out.Sectors, *s)
	}
	sort.Slice(out.Sectors, func(i, j int) bool {
		if c := out.Sectors[i].Value.Cmp(out.Sectors[j].Value); c != 0 {
			return c > 0
		}
		return out.Sectors[i].Sector < out.Sectors[j].Sector
	})
	return out, nil
}
