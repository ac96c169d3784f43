// Package analyst is the financial analyst agent: positions, valuation,
// allocation, performance, attribution and the position deep dive.
package analyst

import (
	"log/slog"

	"github.com/dawsos/dawsos/storage"
)

// Agent is the agent's wire name.
const Agent = "financial_analyst"

// Analyst holds the dependencies every capability of the agent shares.
type Analyst struct {
	db  *storage.DB
	log *slog.Logger
}

// Deps are the analyst's dependencies, given at construction.
type Deps struct {
	DB     *storage.DB
	Logger *slog.Logger
}

// New returns the agent.
func New(d Deps) *Analyst {
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	return &Analyst{db: d.DB, log: d.Logger}
}
