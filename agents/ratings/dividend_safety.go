package ratings

import (
	"context"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/storage"
)

func (a *Ratings) dividendSafety() agents.Def {
	return agents.Write(agents.Meta{
		Name: "ratings.dividend_safety",
		Description: "Dividend safety 0–10 of an equity from its fundamentals and the active dividend_safety rubric (payout ratio, " +
			"free-cash-flow cover of the dividend, dividend growth streak over the fiscal years, net cash to assets): every " +
			"component's figure, inputs with fiscal years, weight and score. Upserts security_ratings.",
		Reads:  []string{"securities", "fundamentals", "rating_rubrics"},
		Writes: []string{"security_ratings"},
		Codes:  []string{agents.CodeNotFound, agents.CodeInsufficientData},
	}, a.DividendSafety)
}

// DividendSafety implements ratings.dividend_safety.
func (a *Ratings) DividendSafety(ctx context.Context, c *agents.Call, in RatingInput) (RatingOutput, error) {
	return a.rateOne(ctx, c, storage.RatingDividendSafety, in)
}
