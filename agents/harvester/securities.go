package harvester

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/storage"
)

// SecurityRef names a security; a position of ledger.positions or
// portfolio.get_valued_positions can be passed whole.
type SecurityRef struct {
	SecurityID uuid.UUID `json:"security_id" doc:"The security."`
}

// loadSecurities loads the securities of refs, once each, in the order
// given; an unknown one is not_found naming it.
func loadSecurities(ctx context.Context, q storage.Querier, refs []SecurityRef) ([]storage.Security, error) {
	var ids []uuid.UUID
	seen := map[uuid.UUID]bool{}
	for _, r := range refs {
		if !seen[r.SecurityID] {
			seen[r.SecurityID] = true
			ids = append(ids, r.SecurityID)
		}
	}
	if len(ids) == 0 {
		return []storage.Security{}, nil
	}
	secs, err := storage.ListSecurities(ctx, q, storage.SecurityFilter{IDs: ids})
	if err != nil {
		return nil, err
	}
	byID := map[uuid.UUID]storage.Security{}
	for _, s := range secs {
		byID[s.ID] = s
	}
	out := make([]storage.Security, 0, len(ids))
	for _, id := range ids {
		s, ok := byID[id]
		if !ok {
			return nil, fmt.Errorf("security %s: %w", id, storage.ErrNotFound)
		}
		out = append(out, s)
	}
	return out, nil
}

// nameSuffixes are the legal-form words dropped from a company name to get
// the name news writes ("Canadian National Railway Company" is
// "Canadian National Railway").
var nameSuffixes = map[string]bool{
	"inc": true, "inc.": true, "corp": true, "corp.": true, "corporation": true, "company": true, "co": true, "co.": true,
	"ltd": true, "ltd.": true, "limited": true, "plc": true, "sa": true, "ag": true, "nv": true, "se": true,
	"holdings": true, "group": true, "class": true, "a": true, "b": true, "ab": true, "asa": true,
}

// shortName is a company name without its trailing legal-form words.
func shortName(name string) string {
	words := strings.Fields(name)
	for len(words) > 1 && nameSuffixes[strings.ToLower(strings.Trim(words[len(words)-1], ","))] {
		words = words[:len(words)-1]
	}
	return strings.Trim(strings.Join(words, " "), ",")
}

// mentions reports whether text names the security: its ticker as a whole
// word in upper case (tickers of one letter are too ambiguous and are not
// matched), or its short name as a whole phrase in any case.
func mentions(s storage.Security, text string) bool {
	if text == "" {
		return false
	}
	if len(s.Symbol) >= 2 {
		re := regexp.MustCompile(`(^|[^A-Za-z0-9])` + regexp.QuoteMeta(s.Symbol) + `($|[^A-Za-z0-9])`)
		if re.MatchString(text) {
			return true
		}
	}
	n := shortName(s.Name)
	if n == "" {
		return false
	}
	re := regexp.MustCompile(`(?i)(^|[^\pL\pN])` + regexp.QuoteMeta(n) + `($|[^\pL\pN])`)
	return re.MatchString(text)
}

func sortFundamentals(rows []storage.Fundamentals) {
	sort.Slice(rows, func(i, j int) bool { return rows[i].FiscalYear > rows[j].FiscalYear })
}

// asOfEnd is the end of the run's as-of date (UTC), or now when the run
// has no as-of date or the date is today: the instant the run's "latest"
// means.
func (a *Harvester) asOfEnd(c *agents.Call) (time.Time, error) {
	now := a.now().UTC()
	d, err := c.Run.AsOf()
	if err != nil {
		return time.Time{}, err
	}
	if d.IsZero() {
		return now, nil
	}
	end := time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, time.UTC).Add(24*time.Hour - time.Nanosecond)
	if end.After(now) {
		return now, nil
	}
	return end, nil
}

// asOfDate is the run's as-of date, or today (UTC) when it has none.
func (a *Harvester) asOfDate(c *agents.Call) (time.Time, error) {
	d, err := c.Run.AsOf()
	if err != nil {
		return time.Time{}, err
	}
	if d.IsZero() {
		n := a.now().UTC()
		return time.Date(n.Year(), n.Month(), n.Day(), 0, 0, 0, 0, time.UTC), nil
	}
	return d, nil
}

func optTime(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

func dateString(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := t.Format(time.DateOnly)
	return &s
}
