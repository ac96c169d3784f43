package analyst

import (
	"time"

	"github.com/dawsos/dawsos/storage/lots"
)

// What the performance, attribution and chart capabilities share: the
// output types of a dated window.

// day formats a date as YYYY-MM-DD.
func day(t time.Time) string { return t.Format(time.DateOnly) }

// wholeHistory is a lookback longer than any stored history (400 years of
// trading days), for figures computed since inception.
const wholeHistory = 100_000

// LookbackWindow says which daily values a lookback figure was computed
// on; the outputs of the lookback capabilities embed it.
type LookbackWindow struct {
	LookbackDays int    `json:"lookback_days" doc:"The trading days asked for."`
	Days         int    `json:"days" doc:"The trading days (daily returns) the figure covers: lookback_days, or fewer when the history is shorter."`
	Complete     bool   `json:"complete" doc:"Whether the history covers the whole lookback (days = lookback_days)."`
	StartDate    string `json:"start_date" doc:"The valued day the window opens on (YYYY-MM-DD): the close before the first daily return."`
	EndDate      string `json:"end_date" doc:"The last valued day of the window (YYYY-MM-DD)."`
	CalendarDays int    `json:"calendar_days" doc:"Calendar days from start_date to end_date."`
}

func windowOf(s returnSeries, lookback int) LookbackWindow {
	first, last := s.Values[0].Date, s.Values[len(s.Values)-1].Date
	return LookbackWindow{LookbackDays: lookback, Days: len(s.Returns), Complete: len(s.Returns) >= lookback,
		StartDate: day(first), EndDate: day(last), CalendarDays: lots.CalendarDays(first, last)}
}

// minReturns is how many daily returns a lookback figure needs: the whole
// lookback when the caller requires it, else least (the figure's own
// minimum).
func minReturns(requireFull bool, lookback, least int) int {
	if requireFull {
		return max(lookback, least)
	}
	return least
}
