package ratings

import (
	"context"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/storage"
)

func (a *Ratings) moatStrength() agents.Def {
	return agents.Write(agents.Meta{
		Name: "ratings.moat_strength",
		Description: "Moat strength 0–10 of an equity from its fundamentals and the active moat_strength rubric (return on equity, " +
			"gross margin, intangibles to assets, and the rubric's proxy for switching costs: the stability of gross margin over " +
			"the fiscal years): every component's figure, inputs with fiscal years, weight and score. Upserts security_ratings.",
		Reads:  []string{"securities", "fundamentals", "rating_rubrics"},
		Writes: []string{"security_ratings"},
		Codes:  []string{agents.CodeNotFound, agents.CodeInsufficientData},
	}, a.MoatStrength)
}

// MoatStrength implements ratings.moat_strength.
func (a *Ratings) MoatStrength(ctx context.Context, c *agents.Call, in RatingInput) (RatingOutput, error) {
	return a.rateOne(ctx, c, storage.RatingMoatStrength, in)
}
