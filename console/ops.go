package console

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"sort"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/bus"
	"github.com/dawsos/dawsos/patterns"
	"github.com/dawsos/dawsos/storage"
)

// capabilityRow is one capability with its breaker and dead letters.
type capabilityRow struct {
	Spec        *agents.Spec
	Breaker     *bus.BreakerSnapshot
	Pending     int
	LastFailure *storage.DeadLetterRow
	LastCode    string
}

type capabilitiesPage struct {
	Rows   []capabilityRow
	Agents []string
}

// capabilities lists every capability with its breaker's state, history
// (times opened, since when), pending dead letters and last failure.
// MANAGERs get the reset button, which calls the API's reset route.
func (c *Console) capabilities(ctx *fiber.Ctx, who Caller) error {
	byName := map[string]bus.BreakerSnapshot{}
	if c.deps.Breakers != nil {
		for _, b := range c.deps.Breakers.Breakers() {
			byName[b.Capability] = b
		}
	}
	dls, err := c.listDeadLetters(ctx, storage.DeadLetterFilter{Status: "pending", UserID: ownUser(who), Limit: 1000})
	if err != nil {
		return err
	}
	pending := map[string]int{}
	last := map[string]*storage.DeadLetterRow{}
	for i := range dls {
		d := &dls[i]
		pending[d.Capability]++
		if last[d.Capability] == nil { // newest first
			last[d.Capability] = d
		}
	}
	var data capabilitiesPage
	if c.deps.Registry != nil {
		for _, sp := range c.deps.Registry.All() {
			r := capabilityRow{Spec: sp, Pending: pending[sp.Name], LastFailure: last[sp.Name]}
			if b, ok := byName[sp.Name]; ok {
				r.Breaker = &b
			}
			if r.LastFailure != nil {
				r.LastCode = errorCode(r.LastFailure.Error)
			}
			data.Rows = append(data.Rows, r)
		}
		data.Agents = c.deps.Registry.Agents()
	}
	sort.SliceStable(data.Rows, func(i, j int) bool {
		// Open breakers first: they are what an operator came for.
		oi, oj := data.Rows[i].Breaker != nil && data.Rows[i].Breaker.State != bus.BreakerClosed,
			data.Rows[j].Breaker != nil && data.Rows[j].Breaker.State != bus.BreakerClosed
		if oi != oj {
			return oi
		}
		return data.Rows[i].Spec.Name < data.Rows[j].Spec.Name
	})
	return c.render(ctx, http.StatusOK, "capabilities", "Capabilities", "capabilities", who, data)
}

func (c *Console) listDeadLetters(ctx *fiber.Ctx, f storage.DeadLetterFilter) ([]storage.DeadLetterRow, error) {
	var rows []storage.DeadLetterRow
	err := c.deps.DB.Tx(ctx.UserContext(), func(tx pgx.Tx) error {
		var err error
		rows, err = storage.ListDeadLetters(ctx.UserContext(), tx, f)
		return err
	})
	return rows, err
}

// errorCode is the code of a stored step error.
func errorCode(raw json.RawMessage) string {
	var e struct {
		Code string `json:"code"`
	}
	_ = json.Unmarshal(raw, &e)
	return e.Code
}

func errorMessage(raw json.RawMessage) string {
	var e struct {
		Message string `json:"message"`
	}
	_ = json.Unmarshal(raw, &e)
	return e.Message
}

// dlGroup is the dead letters of one capability and error code.
type dlGroup struct {
	Capability, Code string
	Letters          []dlRow
	IDs              string
	Replayable       int
}

type dlRow struct {
	storage.DeadLetterRow
	Code, Message string
}

type dlqPage struct {
	Query  url.Values
	Groups []dlGroup
	Total  int
	Codes  []string
	Caps   []string
}

// deadLetters is the dead-letter queue grouped by capability and error
// code, filtered in the URL (capability, code, status). Each group offers
// a bulk replay to MANAGERs: a preview of how many, then one API replay
// per letter with its outcome.
func (c *Console) deadLetters(ctx *fiber.Ctx, who Caller) error {
	q := url.Values{}
	for _, k := range []string{"capability", "code", "status", "run_id"} {
		if v := ctx.Query(k); v != "" {
			q.Set(k, v)
		}
	}
	status := q.Get("status")
	switch status {
	case "":
		status = "pending"
	case "all":
		status = ""
	case "pending", "replayed":
	default:
		return badParam("status", "status must be pending, replayed or all")
	}
	f := storage.DeadLetterFilter{Capability: q.Get("capability"), Status: status, UserID: ownUser(who), Limit: 1000}
	if v := q.Get("run_id"); v != "" {
		u, err := uuid.Parse(v)
		if err != nil {
			return badParam("run_id", "run_id must be a uuid")
		}
		f.RunID = u.String()
	}
	rows, err := c.listDeadLetters(ctx, f)
	if err != nil {
		return err
	}
	data := dlqPage{Query: q}
	groups := map[string]*dlGroup{}
	var order []string
	codes, caps := map[string]bool{}, map[string]bool{}
	for _, r := range rows {
		code := errorCode(r.Error)
		codes[code], caps[r.Capability] = true, true
		if want := q.Get("code"); want != "" && code != want {
			continue
		}
		key := r.Capability + "\x00" + code
		g, ok := groups[key]
		if !ok {
			g = &dlGroup{Capability: r.Capability, Code: code}
			groups[key] = g
			order = append(order, key)
		}
		g.Letters = append(g.Letters, dlRow{DeadLetterRow: r, Code: code, Message: errorMessage(r.Error)})
		if r.Status == "pending" && r.RunID != nil {
			g.Replayable++
			if g.IDs != "" {
				g.IDs += " "
			}
			g.IDs += r.ID
		}
		data.Total++
	}
	for _, k := range order {
		data.Groups = append(data.Groups, *groups[k])
	}
	for k := range codes {
		data.Codes = append(data.Codes, k)
	}
	for k := range caps {
		data.Caps = append(data.Caps, k)
	}
	sort.Strings(data.Codes)
	sort.Strings(data.Caps)
	return c.render(ctx, http.StatusOK, "dlq", "Dead letters", "dlq", who, data)
}

type dlPage struct {
	Letter   dlRow
	Args     string
	Schema   string
	Replays  []storage.ReplayRow
	Request  json.RawMessage
	CanRetry bool
}

// deadLetter is one dead letter: its request, error and replays, and for
// MANAGERs the replay form with editable arguments.
func (c *Console) deadLetter(ctx *fiber.Ctx, who Caller) error {
	id, err := uuid.Parse(ctx.Params("id"))
	if err != nil {
		return badParam("id", "the dead letter id must be a uuid")
	}
	uctx := ctx.UserContext()
	var data dlPage
	err = c.deps.DB.Tx(uctx, func(tx pgx.Tx) error {
		d, err := storage.GetDeadLetter(uctx, tx, id.String(), false)
		if err != nil {
			return err
		}
		data.Letter = dlRow{DeadLetterRow: d, Code: errorCode(d.Error), Message: errorMessage(d.Error)}
		data.Replays, err = storage.ReplaysOf(uctx, tx, id.String())
		return err
	})
	if err != nil {
		return err
	}
	data.Request = data.Letter.Request
	data.Args = prettyJSON(requestArgs(data.Letter.Request))
	if sp, ok := c.spec(data.Letter.Capability); ok {
		data.Schema = prettyJSON(sp.InputSchema)
	}
	data.CanRetry = who.CanOperate() && data.Letter.Status == "pending" && data.Letter.RunID != nil
	return c.render(ctx, http.StatusOK, "deadletter", "Dead letter "+shortID(data.Letter.ID), "dlq", who, data)
}

func (c *Console) spec(name string) (*agents.Spec, bool) {
	if c.deps.Registry == nil {
		return nil, false
	}
	return c.deps.Registry.Get(name)
}

// requestArgs are the arguments of a dead letter's step request.
func requestArgs(req json.RawMessage) json.RawMessage {
	var r struct {
		Args json.RawMessage `json:"args"`
	}
	_ = json.Unmarshal(req, &r)
	return r.Args
}

// checkAnswer is the answer of POST /dlq/{id}/check.
type checkAnswer struct {
	Valid    bool                  `json:"valid"`
	Problems []patterns.FieldError `json:"problems"`
	Diff     []change              `json:"diff"`
	Changed  bool                  `json:"changed"`
}

// change is one difference between the original and the edited
// arguments, at a JSON path.
type change struct {
	Path string          `json:"path"`
	From json.RawMessage `json:"from,omitempty"`
	To   json.RawMessage `json:"to,omitempty"`
}

// CheckBody is the body of POST /dlq/{id}/check: the arguments a replay
// would send (empty or null: the dead letter's own).
type CheckBody struct {
	Args json.RawMessage `json:"args"`
}

// checkReplay validates edited arguments against the capability's input
// schema, with the validator every step's arguments pass, and answers the
// problems and the difference from the dead letter's arguments. It
// changes nothing: the replay itself is POST /v1/dlq/{id}/replay, which
// validates again.
func (c *Console) checkReplay(ctx *fiber.Ctx, who Caller) error {
	var body CheckBody
	dec := json.NewDecoder(bytes.NewReader(ctx.Body()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		return &agents.Error{Code: agents.CodeMalformedJSON, Message: "the body must be a JSON object {\"args\": {...}}: " + err.Error()}
	}
	uctx := ctx.UserContext()
	var d storage.DeadLetterRow
	err := c.deps.DB.Tx(uctx, func(tx pgx.Tx) error {
		var err error
		d, err = storage.GetDeadLetter(uctx, tx, ctx.Params("id"), false)
		return err
	})
	if err != nil {
		return err
	}
	orig := requestArgs(d.Request)
	args := body.Args
	if len(bytes.TrimSpace(args)) == 0 || bytes.Equal(bytes.TrimSpace(args), []byte("null")) {
		args = orig
	}
	out := checkAnswer{Problems: []patterns.FieldError{}, Diff: []change{}}
	if c.deps.Catalog == nil {
		return &agents.Error{Code: agents.CodeUnavailable, Message: "this process has no capability catalog to check arguments against"}
	}
	sp, ok := c.deps.Catalog.Capability(d.Capability)
	if !ok {
		out.Problems = append(out.Problems, patterns.FieldError{Field: "", Code: agents.CodeNotFound,
			Message: fmt.Sprintf("capability %s is not registered in this process", d.Capability)})
	} else {
		out.Problems = append(out.Problems, sp.Input.Validate(args)...)
	}
	out.Valid = len(out.Problems) == 0
	var a, b any
	_ = json.Unmarshal(orig, &a)
	if err := json.Unmarshal(args, &b); err != nil {
		out.Valid = false
		out.Problems = append(out.Problems, patterns.FieldError{Code: agents.CodeMalformedJSON, Message: "the arguments are not JSON: " + err.Error()})
	} else {
		diffJSON("", a, b, &out.Diff)
	}
	out.Changed = len(out.Diff) > 0
	ctx.Set(fiber.HeaderCacheControl, "no-store")
	return ctx.Status(http.StatusOK).JSON(out)
}

// diffJSON appends the differences between a and b, object by object.
func diffJSON(at string, a, b any, out *[]change) {
	am, aok := a.(map[string]any)
	bm, bok := b.(map[string]any)
	if aok && bok {
		keys := map[string]bool{}
		for k := range am {
			keys[k] = true
		}
		for k := range bm {
			keys[k] = true
		}
		sorted := make([]string, 0, len(keys))
		for k := range keys {
			sorted = append(sorted, k)
		}
		sort.Strings(sorted)
		for _, k := range sorted {
			p := k
			if at != "" {
				p = at + "." + k
			}
			av, ain := am[k]
			bv, bin := bm[k]
			switch {
			case !ain:
				*out = append(*out, change{Path: p, To: mustJSON(bv)})
			case !bin:
				*out = append(*out, change{Path: p, From: mustJSON(av)})
			default:
				diffJSON(p, av, bv, out)
			}
		}
		return
	}
	if !reflect.DeepEqual(a, b) {
		*out = append(*out, change{Path: strings.TrimPrefix(at, "."), From: mustJSON(a), To: mustJSON(b)})
	}
}

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		return json.RawMessage("null")
	}
	return b
}

type patternRow struct {
	*patterns.Pattern
	Hash string
}

// patternList lists the patterns with their versions and hashes.
func (c *Console) patternList(ctx *fiber.Ctx, who Caller) error {
	var rows []patternRow
	for _, p := range c.deps.Patterns.List() {
		rows = append(rows, patternRow{Pattern: p, Hash: p.Hash()})
	}
	return c.render(ctx, http.StatusOK, "patterns", "Patterns", "patterns", who, rows)
}

// inputField is one field of a pattern's input form.
type inputField struct {
	Name, Type, Kind, Description, Default string
	Required                               bool
	Options                                []string
}

type patternPage struct {
	P          *patterns.Pattern
	Hash       string
	Definition string
	Fields     []inputField
	Steps      []*patterns.Step
	Portfolios []storage.Portfolio
}

// pattern is one pattern: its definition, steps and an input form made
// from its inputs, whose Run button submits through POST /v1/runs.
func (c *Console) pattern(ctx *fiber.Ctx, who Caller) error {
	p, ok := c.deps.Patterns.Get(ctx.Params("id"))
	if !ok {
		return &agents.Error{Code: agents.CodeNotFound, Message: fmt.Sprintf("no pattern %q", ctx.Params("id"))}
	}
	def, _ := json.MarshalIndent(p, "", "  ")
	data := patternPage{P: p, Hash: p.Hash(), Definition: string(def), Steps: p.Order()}
	for _, name := range p.InputNames() {
		in := p.Inputs[name]
		f := inputField{Name: name, Type: in.Type, Description: in.Description, Required: in.Required}
		switch in.Type {
		case "integer", "number":
			f.Kind = "number"
		case "boolean":
			f.Kind = "checkbox"
		case patterns.TypeDate:
			f.Kind = "date"
		case "string", patterns.TypeUUID:
			f.Kind = "text"
		default:
			f.Kind = "json"
		}
		if len(in.Default) > 0 {
			var s string
			if json.Unmarshal(in.Default, &s) == nil {
				f.Default = s
			} else {
				f.Default = string(in.Default)
			}
		}
		for _, e := range in.Enum {
			var s string
			if json.Unmarshal(e, &s) == nil {
				f.Options = append(f.Options, s)
			} else {
				f.Options = append(f.Options, string(e))
			}
		}
		data.Fields = append(data.Fields, f)
	}
	ps, err := c.ownPortfolios(ctx, who)
	if err != nil {
		return err
	}
	data.Portfolios = ps
	return c.render(ctx, http.StatusOK, "pattern", p.ID, "patterns", who, data)
}

func (c *Console) ownPortfolios(ctx *fiber.Ctx, who Caller) ([]storage.Portfolio, error) {
	f := storage.PortfolioFilter{}
	if !who.Admin() {
		id, err := uuid.Parse(who.UserID)
		if err != nil {
			return nil, nil
		}
		f.OwnerID = id
	}
	var ps []storage.Portfolio
	err := c.deps.DB.Tx(ctx.UserContext(), func(tx pgx.Tx) error {
		var err error
		ps, err = storage.ListPortfolios(ctx.UserContext(), tx, f)
		return err
	})
	return ps, err
}
