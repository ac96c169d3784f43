package ratings

import (
	"context"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/storage"
)

func (a *Ratings) resilience() agents.Def {
	return agents.Write(agents.Meta{
		Name: "ratings.resilience",
		Description: "Resilience 0–10 of an equity from its fundamentals and the active resilience rubric (debt to equity, interest " +
			"coverage, current ratio, stability of operating margin over the fiscal years): every component's figure, inputs with " +
			"fiscal years, weight and score. Upserts security_ratings.",
		Reads:  []string{"securities", "fundamentals", "rating_rubrics"},
		Writes: []string{"security_ratings"},
		Codes:  []string{agents.CodeNotFound, agents.CodeInsufficientData},
	}, a.Resilience)
}

// Resilience implements ratings.resilience.
func (a *Ratings) Resilience(ctx context.Context, c *agents.Call, in RatingInput) (RatingOutput, error) {
	return a.rateOne(ctx, c, storage.RatingResilience, in)
}
