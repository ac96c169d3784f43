package harvester

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/storage"
)

// Corporate actions shared by corporate_actions.dividends, .splits,
// .earnings and .upcoming.

// ActionOut is one stored corporate action.
type ActionOut struct {
	SecurityID uuid.UUID           `json:"security_id"`
	Symbol     string              `json:"symbol"`
	Type       string              `json:"type" doc:"DIVIDEND, SPLIT or EARNINGS."`
	EventDate  string              `json:"event_date" doc:"The ex-date of a dividend or split, the report date of earnings."`
	RecordDate *string             `json:"record_date"`
	PayDate    *string             `json:"pay_date"`
	Amount     decimal.NullDecimal `json:"amount" doc:"Dividend per share, in currency."`
	Ratio      decimal.NullDecimal `json:"ratio" doc:"New shares per old share of a split."`
	Currency   string              `json:"currency"`
	Source     string              `json:"source" doc:"fmp when fetched; the loader (seed, import) otherwise."`
	FetchedAt  *time.Time          `json:"fetched_at"`
}

func actionOut(a storage.CorporateAction) ActionOut {
	return ActionOut{SecurityID: a.SecurityID, Symbol: a.Symbol, Type: a.Type, EventDate: a.EventDate.Format(time.DateOnly),
		RecordDate: dateString(a.RecordDate), PayDate: dateString(a.PayDate), Amount: a.Amount, Ratio: a.Ratio,
		Currency: a.Currency, Source: a.Source, FetchedAt: optTime(a.FetchedAt)}
}

// ActionsInput names the securities and the date range.
type ActionsInput struct {
	Positions []SecurityRef `json:"positions" jsonschema:"maxItems=500" doc:"The securities, e.g. the positions of ledger.positions."`
	From      string        `json:"from,omitempty" jsonschema:"format=date" doc:"First event date; default one year before the as-of date."`
	To        string        `json:"to,omitempty" jsonschema:"format=date" doc:"Last event date; default 90 days after the as-of date."`
}

// ActionsOutput lists the actions by event date.
type ActionsOutput struct {
	From       string            `json:"from"`
	To         string            `json:"to"`
	Actions    []ActionOut       `json:"actions"`
	Refreshed  []string          `json:"refreshed" doc:"Symbols whose actions this call fetched from FMP."`
	Note       string            `json:"note,omitempty"`
	Provenance agents.Provenance `json:"provenance"`
}

// actionDatasets are the fetch-log datasets of each action type.
var actionDatasets = map[string]string{storage.ActionDividend: "dividends", storage.ActionSplit: "splits", storage.ActionEarnings: "earnings"}

// listActions answers with the stored actions of one type; while FMP is
// configured, the actions of securities whose last FMP fetch of that type
// is stale are fetched and stored first. Without FMP the stored actions
// (the loaded calendar) answer, and the note says they were not
// refreshed: a corporate-action calendar is loaded data, not a fetch only.
func (a *Harvester) listActions(ctx context.Context, c *agents.Call, kind string, in ActionsInput) (ActionsOutput, error) {
	asOf, err := a.asOfDate(c)
	if err != nil {
		return ActionsOutput{}, err
	}
	from, to := asOf.AddDate(-1, 0, 0), asOf.AddDate(0, 0, 90)
	if in.From != "" {
		if from, err = time.Parse(time.DateOnly, in.From); err != nil {
			return ActionsOutput{}, agents.FieldError("from", "from %q is not YYYY-MM-DD", in.From)
		}
	}
	if in.To != "" {
		if to, err = time.Parse(time.DateOnly, in.To); err != nil {
			return ActionsOutput{}, agents.FieldError("to", "to %q is not YYYY-MM-DD", in.To)
		}
	}
	if to.Before(from) {
		return ActionsOutput{}, agents.FieldError("to", "to %s is before from %s", to.Format(time.DateOnly), from.Format(time.DateOnly))
	}
	dataset := actionDatasets[kind]
	pc := a.client(agents.ProviderFMP)
	var secs []storage.Security
	var last map[string]time.Time
	if err := c.Read(ctx, func(q storage.Querier) error {
		var err error
		if secs, err = loadSecurities(ctx, q, in.Positions); err != nil {
			return err
		}
		subjects := make([]string, len(secs))
		for i, s := range secs {
			subjects[i] = s.ID.String()
		}
		last, err = storage.LastFetches(ctx, q, agents.ProviderFMP, dataset, subjects)
		return err
	}); err != nil {
		return ActionsOutput{}, err
	}
	out := ActionsOutput{From: from.Format(time.DateOnly), To: to.Format(time.DateOnly), Actions: []ActionOut{}, Refreshed: []string{}}
	var stale []storage.Security
	for _, s := range secs {
		at, ok := last[s.ID.String()]
		if !a.fresh(pc, at, ok) {
			stale = append(stale, s)
		}
	}
	type fetched struct {
		sec  storage.Security
		acts []storage.CorporateAction
	}
	var got []fetched
	var fetchedAt time.Time
	if len(stale) > 0 {
		if err := pc.Ready(); err != nil {
			syms := make([]string, len(stale))
			for i, s := range stale {
				syms[i] = s.Symbol
			}
			out.Note = "stored actions of " + strings.Join(syms, ", ") + " were not refreshed: " + err.Error()
		} else {
			for _, s := range stale {
				acts, err := fetchFMPActions(ctx, pc, s, kind)
				var ae *agents.Error
				if errors.As(err, &ae) && ae.Code == agents.CodeNotFound {
					// FMP does not list the security (a cash fund, say):
					// nothing to store, and the fetch is logged.
					acts, err = nil, nil
				}
				if err != nil {
					return ActionsOutput{}, err
				}
				got = append(got, fetched{s, acts})
			}
			fetchedAt = a.now()
		}
	}
	ids := make([]uuid.UUID, len(secs))
	for i, s := range secs {
		ids[i] = s.ID
	}
	var stored []storage.CorporateAction
	read := func(q storage.Querier) error {
		var err error
		stored, err = storage.ListCorporateActions(ctx, q, ids, []string{kind}, from, to)
		return err
	}
	if len(got) > 0 {
		err = c.Write(ctx, func(q storage.Querier) error {
			for _, f := range got {
				if err := storage.UpsertFetchedCorporateActions(ctx, q, f.acts, fetchedAt); err != nil {
					return err
				}
				if err := storage.RecordFetch(ctx, q, agents.ProviderFMP, dataset, f.sec.ID.String(), fetchedAt, len(f.acts)); err != nil {
					return err
				}
				out.Refreshed = append(out.Refreshed, f.sec.Symbol)
			}
			return read(q)
		})
	} else {
		err = c.Read(ctx, read)
	}
	if err != nil {
		return ActionsOutput{}, err
	}
	for _, s := range stored {
		out.Actions = append(out.Actions, actionOut(s))
	}
	out.Provenance = c.Provenance("stored corporate_actions in the date range; fetched from FMP first where its last fetch is stale and FMP is configured",
		"amounts per share in the action's currency; ratios new shares per old share; dates are ex-dates (report dates for earnings)")
	out.Provenance.Source = agents.ProviderFMP
	return out, nil
}
