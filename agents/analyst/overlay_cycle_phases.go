package analyst

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/storage"
)

func (a *Analyst) overlayCyclePhases() agents.Def {
	return agents.Read(agents.Meta{
		Name: "risk.overlay_cycle_phases",
		Description: "Amplifies factor exposures (the output of risk.compute_factor_exposures) by the current short-term (STDC) and " +
			"long-term (LTDC) debt-cycle phases, the newest cycle_phases rows on or before the run's as-of date: early expansion 0.8, " +
			"mid 1.0, late 1.2, early contraction 1.5, deep contraction 2.0 (and pushing on a string, the long-term cycle's stage of a " +
			"deleveraging that money no longer lifts), recovery 0.9; the two multipliers multiply. A missing " +
			"phase or a phase name outside that list is insufficient_data naming the cycle.",
		Reads: []string{"cycle_phases"},
		Codes: []string{agents.CodeInsufficientData},
	}, a.OverlayCyclePhases)
}

// phaseMultipliers maps a normalised phase name (lower case, '_' and '-'
// as spaces, single spaces) to its multiplier (DOMAIN.md §4). "mid" and
// "late" are the short forms of mid and late expansion. "Pushing on a
// string" is the long-term debt cycle's stage (Dalio, Big Debt Crises,
// 2018) where rates at zero and printing no longer lift a deleveraging
// economy: it is still a deep contraction, and amplifies as one, rather
// than leaving the overlay without a multiplier whenever the long-term
// cycle reaches it.
var phaseMultipliers = map[string]float64{
	"early expansion":     0.8,
	"mid expansion":       1.0,
	"mid":                 1.0,
	"late expansion":      1.2,
	"late":                1.2,
	"early contraction":   1.5,
	"deep contraction":    2.0,
	"pushing on a string": 2.0,
	"recovery":            0.9,
}

// acceptedPhases lists the accepted names for error messages.
const acceptedPhases = "early expansion, mid expansion (or mid), late expansion (or late), early contraction, deep contraction, " +
	"pushing on a string, recovery " +
	"(case, underscores and hyphens ignored, e.g. EARLY_EXPANSION)"

// normalisePhase is the key of a phase name in phaseMultipliers.
func normalisePhase(p string) string {
	p = strings.NewReplacer("_", " ", "-", " ").Replace(strings.ToLower(p))
	return strings.Join(strings.Fields(p), " ")
}

// CycleOverlayInput takes factor exposures.
type CycleOverlayInput struct {
	Exposures OverlayExposures `json:"exposures" doc:"The output of risk.compute_factor_exposures; only portfolio_id, asof_date and factors[].factor, beta and contribution_annual are read."`
}

// OverlayExposures is what the overlay reads of factor exposures.
type OverlayExposures struct {
	PortfolioID uuid.UUID       `json:"portfolio_id,omitempty"`
	AsOfDate    string          `json:"asof_date,omitempty"`
	Factors     []OverlayFactor `json:"factors" jsonschema:"minItems=1"`
}

// OverlayFactor is one factor's exposure.
type OverlayFactor struct {
	Factor             string   `json:"factor" jsonschema:"minLength=1"`
	Beta               float64  `json:"beta"`
	ContributionAnnual *float64 `json:"contribution_annual,omitempty"`
}

// CyclePhaseUsed is the phase a multiplier came from.
type CyclePhaseUsed struct {
	Cycle      string  `json:"cycle" doc:"STDC or LTDC."`
	AsOfDate   string  `json:"asof_date" doc:"Date of the cycle_phases row: the newest on or before the run's as-of date."`
	Phase      string  `json:"phase" doc:"As stored."`
	Score      float64 `json:"score"`
	Multiplier float64 `json:"multiplier"`
}

// AmplifiedFactor is one factor's exposure and its cycle-amplified value.
type AmplifiedFactor struct {
	Factor                      string   `json:"factor"`
	Beta                        float64  `json:"beta"`
	AmplifiedBeta               float64  `json:"amplified_beta" doc:"beta × multiplier."`
	ContributionAnnual          *float64 `json:"contribution_annual" doc:"As given; null when not given."`
	AmplifiedContributionAnnual *float64 `json:"amplified_contribution_annual" doc:"contribution_annual × multiplier; null when not given."`
}

// CycleOverlayOutput is the amplified exposures.
type CycleOverlayOutput struct {
	PortfolioID       uuid.UUID         `json:"portfolio_id,omitempty"`
	ExposuresAsOfDate string            `json:"exposures_asof_date,omitempty"`
	ShortTerm         CyclePhaseUsed    `json:"short_term"`
	LongTerm          CyclePhaseUsed    `json:"long_term"`
	Multiplier        float64           `json:"multiplier" doc:"short_term.multiplier × long_term.multiplier."`
	Factors           []AmplifiedFactor `json:"factors" doc:"In the order given."`
	Provenance        agents.Provenance `json:"provenance"`
}

// OverlayCyclePhases implements risk.overlay_cycle_phases.
func (a *Analyst) OverlayCyclePhases(ctx context.Context, c *agents.Call, in CycleOverlayInput) (CycleOverlayOutput, error) {
	asOf, err := c.RequireAsOf()
	if err != nil {
		return CycleOverlayOutput{}, err
	}
	st, err := cyclePhase(ctx, c.DB, storage.CycleShortTermDebt, asOf)
	if err != nil {
		return CycleOverlayOutput{}, err
	}
	lt, err := cyclePhase(ctx, c.DB, storage.CycleLongTermDebt, asOf)
	if err != nil {
		return CycleOverlayOutput{}, err
	}
	m := st.Multiplier * lt.Multiplier
	out := CycleOverlayOutput{PortfolioID: in.Exposures.PortfolioID, ExposuresAsOfDate: in.Exposures.AsOfDate,
		ShortTerm: st, LongTerm: lt, Multiplier: m, Factors: []AmplifiedFactor{},
		Provenance: c.Provenance("exposures × the STDC multiplier × the LTDC multiplier of the newest cycle_phases rows on or before the as-of date",
			"multipliers: early expansion 0.8, mid 1.0, late 1.2, early contraction 1.5, deep contraction 2.0, recovery 0.9 (DOMAIN.md §4); "+
				"betas in the units of the exposures given")}
	for _, f := range in.Exposures.Factors {
		af := AmplifiedFactor{Factor: f.Factor, Beta: f.Beta, AmplifiedBeta: f.Beta * m}
		if f.ContributionAnnual != nil {
			v, amp := *f.ContributionAnnual, *f.ContributionAnnual*m
			af.ContributionAnnual, af.AmplifiedContributionAnnual = &v, &amp
		}
		out.Factors = append(out.Factors, af)
	}
	return out, nil
}

// cyclePhase reads a cycle's current phase and its multiplier.
func cyclePhase(ctx context.Context, q storage.Querier, cycle string, asOf time.Time) (CyclePhaseUsed, error) {
	p, ok, err := storage.LatestCyclePhase(ctx, q, cycle, asOf)
	if err != nil {
		return CyclePhaseUsed{}, err
	}
	if !ok {
		return CyclePhaseUsed{}, agents.InsufficientData(fmt.Sprintf("cycle_phases rows of cycle %s on or before %s (cycles.compute_%s writes them)",
			cycle, asOf.Format(time.DateOnly), map[string]string{storage.CycleShortTermDebt: "short_term", storage.CycleLongTermDebt: "long_term"}[cycle]), 0, 1)
	}
	mult, known := phaseMultipliers[normalisePhase(p.Phase)]
	if !known {
		return CyclePhaseUsed{}, agents.Errorf(agents.CodeInsufficientData, "cycle %s on %s is in phase %q, which has no multiplier; accepted phases: %s",
			cycle, p.AsOfDate.Format(time.DateOnly), p.Phase, acceptedPhases)
	}
	return CyclePhaseUsed{Cycle: cycle, AsOfDate: p.AsOfDate.Format(time.DateOnly), Phase: p.Phase, Score: p.Score, Multiplier: mult}, nil
}
