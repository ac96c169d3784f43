package console

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/orchestrator"
	"github.com/dawsos/dawsos/storage"
)

// runRow is one run in the list.
type runRow struct {
	ID, Pattern, Status, Portfolio string
	CreatedAt                      time.Time
	FinishedAt                     *time.Time
}

type runsPage struct {
	Query    url.Values
	Runs     []runRow
	Patterns []string
	Statuses []string
	// Next is the query of the next (older) page; empty on the last.
	Next string
}

var runStatuses = []string{storage.RunRunning, storage.RunSucceeded, storage.RunPartial, storage.RunFailed, storage.RunCanceled}

// ownUser is the user whose objects a caller sees in lists: everyone's
// ("") for an ADMIN, the caller's own otherwise, as the API has it.
func ownUser(who Caller) string {
	if who.Admin() {
		return ""
	}
	return who.UserID
}

// runs is the runs list: filters in the URL, newest first, paged by
// creation time like GET /v1/runs.
func (c *Console) runs(ctx *fiber.Ctx, who Caller) error {
	q := url.Values{}
	for _, k := range []string{"pattern", "status", "portfolio", "capability", "failing", "since", "before", "limit"} {
		if v := ctx.Query(k); v != "" {
			q.Set(k, v)
		}
	}
	data := runsPage{Query: q, Statuses: runStatuses}
	for _, p := range c.deps.Patterns.List() {
		data.Patterns = append(data.Patterns, p.ID)
	}
	limit := 50
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 200 {
			return badParam("limit", "limit must be an integer from 1 to 200")
		}
		limit = n
	}
	f := storage.RunFilter{Pattern: q.Get("pattern"), Status: q.Get("status"), UserID: ownUser(who), Limit: limit,
		Capability: q.Get("capability"), Failing: q.Get("failing")}
	for field, v := range map[string]string{"capability": f.Capability, "failing": f.Failing} {
		if len(v) > 200 || strings.ContainsAny(v, "\x00\r\n") || !utf8.ValidString(v) {
			return badParam(field, field+" must be a step id or a capability name")
		}
	}
	if f.Status != "" && !contains(runStatuses, f.Status) {
		return badParam("status", "status must be one of running, succeeded, partial, failed, canceled")
	}
	if v := q.Get("before"); v != "" {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			return badParam("before", "before must be an RFC 3339 time")
		}
		f.Before = &t
	}
	if v := q.Get("since"); v != "" {
		t, err := parseWhen(v)
		if err != nil {
			return badParam("since", "since must be a date (YYYY-MM-DD) or an RFC 3339 time")
		}
		f.Since = &t
	}
	if f.Portfolio = q.Get("portfolio"); f.Portfolio != "" {
		if _, err := uuid.Parse(f.Portfolio); err != nil {
			return badParam("portfolio", "portfolio must be a uuid")
		}
	}
	// One row more than the page says whether an older page exists.
	f.Limit = limit + 1
	var rows []storage.RunRow
	err := c.deps.DB.Tx(ctx.UserContext(), func(tx pgx.Tx) error {
		var err error
		rows, err = storage.ListRuns(ctx.UserContext(), tx, f)
		return err
	})
	if err != nil {
		return err
	}
	more := len(rows) > limit
	rows = rows[:min(len(rows), limit)]
	for _, r := range rows {
		data.Runs = append(data.Runs, runRow{ID: r.ID, Pattern: r.Pattern, Status: r.Status, Portfolio: inputPortfolio(r.Inputs),
			CreatedAt: r.CreatedAt, FinishedAt: r.FinishedAt})
	}
	if more && len(rows) > 0 {
		data.Next = queryWith(q, "before", rows[len(rows)-1].CreatedAt.Format(time.RFC3339Nano))
	}
	return c.render(ctx, http.StatusOK, "runs", "Runs", "runs", who, data)
}

func parseWhen(v string) (time.Time, error) {
	if t, err := time.Parse(time.DateOnly, v); err == nil {
		return t, nil
	}
	return time.Parse(time.RFC3339Nano, v)
}

// inputPortfolio is the portfolio_id input of a run, if any.
func inputPortfolio(inputs json.RawMessage) string {
	var in struct {
		PortfolioID string `json:"portfolio_id"`
	}
	_ = json.Unmarshal(inputs, &in)
	return in.PortfolioID
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func badParam(field, msg string) error {
	return &agents.Error{Code: agents.CodeBadRequest, Message: msg, Field: field}
}

// stepView is one step of a run as the detail page shows it.
type stepView struct {
	orchestrator.StepDocument
	Args, Output json.RawMessage
	ErrorCode    string
	ErrorMessage string
	DeadLetters  []storage.DeadLetterRow
	Level        int
}

type runPage struct {
	Doc       *orchestrator.RunDocument
	Steps     []stepView
	Levels    [][]stepView
	Context   runContext
	LastSeq   int64
	Live      bool
	Outputs   []outputLink
	CanCancel bool
}

type outputLink struct{ Name, Step string }

// runContext is the run context every figure of the run was computed in.
type runContext struct {
	PricingPackID    string `json:"pricing_pack_id"`
	AsOfDate         string `json:"asof_date"`
	LedgerCommitHash string `json:"ledger_commit_hash"`
	UserID           string `json:"user_id"`
}

// loadRun reads a run's document with its steps' arguments and outputs
// and its dead letters.
func (c *Console) loadRun(ctx context.Context, id string) (*runPage, error) {
	doc, err := c.deps.Engine.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	var rows []storage.StepRow
	var dls []storage.DeadLetterRow
	err = c.deps.DB.Tx(ctx, func(tx pgx.Tx) error {
		var err error
		if rows, err = storage.RunSteps(ctx, tx, id); err != nil {
			return err
		}
		dls, err = storage.ListDeadLetters(ctx, tx, storage.DeadLetterFilter{RunID: id, Limit: 1000})
		return err
	})
	if err != nil {
		return nil, err
	}
	byStep := map[string]storage.StepRow{}
	for _, r := range rows {
		byStep[r.StepID] = r
	}
	dlByStep := map[string][]storage.DeadLetterRow{}
	for _, d := range dls {
		if d.StepID != nil {
			dlByStep[*d.StepID] = append(dlByStep[*d.StepID], d)
		}
	}
	p := &runPage{Doc: doc, Live: doc.Status == storage.RunRunning}
	_ = json.Unmarshal(doc.Context, &p.Context)
	for _, t := range doc.Trace {
		p.LastSeq = max(p.LastSeq, t.Seq)
	}
	level := map[string]int{}
	for _, s := range doc.Steps { // steps come in pattern order, dependencies first
		v := stepView{StepDocument: s, Args: byStep[s.ID].Args, Output: byStep[s.ID].Output, DeadLetters: dlByStep[s.ID]}
		for _, d := range s.DependsOn {
			v.Level = max(v.Level, level[d]+1)
		}
		level[s.ID] = v.Level
		if len(s.Error) > 0 {
			var e struct{ Code, Message string }
			_ = json.Unmarshal(s.Error, &e)
			v.ErrorCode, v.ErrorMessage = e.Code, e.Message
		}
		p.Steps = append(p.Steps, v)
	}
	for _, v := range p.Steps {
		for len(p.Levels) <= v.Level {
			p.Levels = append(p.Levels, nil)
		}
		p.Levels[v.Level] = append(p.Levels[v.Level], v)
	}
	for name := range doc.Outputs {
		p.Outputs = append(p.Outputs, outputLink{Name: name, Step: name})
	}
	sort.Slice(p.Outputs, func(i, j int) bool { return p.Outputs[i].Name < p.Outputs[j].Name })
	return p, nil
}

// run is a run's detail: the step graph coloured by state (live over the
// run's SSE stream while it runs), the timeline, and each step's
// arguments, output, attempts, error and dead letters.
func (c *Console) run(ctx *fiber.Ctx, who Caller) error {
	id, err := uuid.Parse(ctx.Params("id"))
	if err != nil {
		return badParam("id", "the run id must be a uuid")
	}
	p, err := c.loadRun(ctx.UserContext(), id.String())
	if err != nil {
		return err
	}
	p.CanCancel = who.CanSubmit() && p.Live
	return c.render(ctx, http.StatusOK, "run", fmt.Sprintf("Run %s · %s", shortID(p.Doc.RunID), p.Doc.Pattern), "runs", who, p)
}
