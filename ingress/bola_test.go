package ingress_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/dawsos/dawsos/ingress"
	"github.com/dawsos/dawsos/storage"
)

// portfolioPattern runs on a portfolio (its step ignores it), so its
// inputs name one; the tests add it to the env's set.
const portfolioPattern = `{
  "id": "test_portfolio",
  "inputs": {"portfolio_id": {"type": "uuid", "required": true, "description": "The portfolio."}},
  "steps": [{"capability": "test.add_one", "as": "first", "args": {"value": 1}}],
  "outputs": ["first"]
}`

func addPortfolioPattern(t *testing.T, e *env) {
	t.Helper()
	if probs := e.set.AddDocument("test_portfolio.json", []byte(portfolioPattern)); len(probs) > 0 {
		t.Fatalf("portfolio pattern does not validate: %v", probs)
	}
}

// normalised is a problem document with what legitimately differs
// between two answers blanked: the correlation id, and the id asked for.
func normalised(t *testing.T, body []byte, id string) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("not a JSON document: %s", body)
	}
	delete(m, "correlation_id")
	b, _ := json.Marshal(m)
	if id == "" {
		return string(b)
	}
	return strings.ReplaceAll(string(b), id, "<id>")
}

// TestBOLA asks, as a user who owns nothing, for every object id of every
// route that names one (objects of another USER, generated from the
// access table) and for ids that exist nowhere: both are 404 not_found,
// and the answers are the same problem document but for the id and the
// correlation id, of the same size, so nothing tells an existing object
// of someone else from none. Both answers come from the same single
// indexed lookup of the owner, so they also take the same work. Lists
// hold none of the owner's objects, and a run's inputs and a replay's
// arguments cannot name the owner's portfolio either.
func TestBOLA(t *testing.T) {
	t.Parallel()
	e := setup(t)
	addPortfolioPattern(t, e)
	obj := ownedObjects(t, e)
	other := asUser(e.users.other)
	checked := 0
	for _, key := range routeKeys(e) {
		min, kind, _, _, _ := ingress.RouteRule(key)
		if kind == "" {
			continue
		}
		// The asker may call the route: the other USER, or for an
		// operator's route the MANAGER, neither of whom owns the object.
		asker := e.users.other
		if min > ingress.RoleUser {
			asker = e.users.manager
		}
		method, path, body, ctype := requestFor(e, key, obj)
		mine := obj[kind]
		nobodys := uuid.NewString()
		hdr := map[string]string{"Authorization": asker.bearer(), "Content-Type": ctype}
		r1, b1 := e.do(t, method, path, body, hdr)
		r2, b2 := e.do(t, method, strings.Replace(path, mine, nobodys, 1), body, hdr)
		checkProblem(t, key+" on another user's object", r1, b1, http.StatusNotFound, "not_found")
		checkProblem(t, key+" on no object", r2, b2, http.StatusNotFound, "not_found")
		if n1, n2 := normalised(t, b1, mine), normalised(t, b2, nobodys); n1 != n2 || len(b1) != len(b2) {
			t.Errorf("%s: another user's object answers %s (%d bytes), none answers %s (%d bytes); want the same", key, n1, len(b1), n2, len(b2))
		}
		checked++
	}
	if checked < 5 {
		t.Fatalf("only %d routes with objects checked; the access table should give more", checked)
	}

	// Lists: the other user sees none of the owner's objects, also when
	// asking by the owner's id.
	for _, path := range []string{"/v1/runs", "/v1/dlq", "/v1/portfolios", "/v1/portfolios?owner_id=" + e.users.owner.ID.String(),
		"/v1/dlq?run_id=" + obj[storage.OwnedRun], "/v1/auth/keys"} {
		resp, body := e.do(t, "GET", path, "", other)
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s as another user: %d %s", path, resp.StatusCode, body)
		}
		for kind, id := range obj {
			if strings.Contains(string(body), id) {
				t.Errorf("GET %s as another user shows the owner's %s %s: %s", path, kind, id, body)
			}
		}
	}
	// ... while the owner sees them.
	resp, body := e.do(t, "GET", "/v1/runs", "", asUser(e.users.owner))
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), obj[storage.OwnedRun]) {
		t.Errorf("GET /v1/runs as the owner: %d %s; want the owner's run", resp.StatusCode, body)
	}

	// Inputs: a run on the owner's portfolio is refused to the other user
	// exactly as one on a portfolio that does not exist.
	submit := func(portfolio string) (*http.Response, []byte) {
		return e.do(t, "POST", "/v1/runs", `{"pattern":"test_portfolio","inputs":{"portfolio_id":"`+portfolio+`"}}`, other)
	}
	nobodys := uuid.NewString()
	r1, b1 := submit(obj[storage.OwnedPortfolio])
	r2, b2 := submit(nobodys)
	p := checkProblem(t, "run on another user's portfolio", r1, b1, http.StatusNotFound, "not_found")
	checkProblem(t, "run on no portfolio", r2, b2, http.StatusNotFound, "not_found")
	if normalised(t, b1, obj[storage.OwnedPortfolio]) != normalised(t, b2, nobodys) || len(p.Fields) != 1 || p.Fields[0].Field != "inputs.portfolio_id" {
		t.Errorf("run inputs: another user's portfolio answers %s, none answers %s; want the same, naming inputs.portfolio_id", b1, b2)
	}
	if resp, body := e.do(t, "POST", "/v1/runs", `{"pattern":"test_portfolio","inputs":{"portfolio_id":"`+obj[storage.OwnedPortfolio]+`"}}`,
		asUser(e.users.owner)); resp.StatusCode != http.StatusAccepted {
		t.Errorf("run on the owner's own portfolio: %d %s; want 202", resp.StatusCode, body)
	}

	// Replay arguments: a MANAGER replaying a dead letter of their own run
	// cannot point the step at the owner's portfolio.
	mgr := asUser(e.users.manager)
	resp, body = e.do(t, "POST", "/v1/runs?wait=15s", `{"pattern":"test_chain","inputs":{"n":1,"fail":true}}`, mgr)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("manager's failing run: %d %s", resp.StatusCode, body)
	}
	run := decode[struct {
		RunID string `json:"run_id"`
	}](t, body).RunID
	_, body = e.do(t, "GET", "/v1/dlq?run_id="+run, "", mgr)
	dls := decode[struct {
		DeadLetters []struct{ ID string } `json:"dead_letters"`
	}](t, body).DeadLetters
	if len(dls) != 1 {
		t.Fatalf("manager's dead letters: %s", body)
	}
	resp, body = e.do(t, "POST", "/v1/dlq/"+dls[0].ID+"/replay", `{"args":{"value":1,"fail":false,"portfolio_id":"`+obj[storage.OwnedPortfolio]+`"}}`, mgr)
	checkProblem(t, "replay naming another user's portfolio", resp, body, http.StatusNotFound, "not_found")
}

// TestPortfolioCreateIsForOneself: a USER creates portfolios for
// themselves (owner_id defaults to the caller); naming another owner is
// an ADMIN's privilege.
func TestPortfolioCreateIsForOneself(t *testing.T) {
	t.Parallel()
	e := setup(t)
	resp, body := e.do(t, "POST", "/v1/portfolios", `{"name":"Mine","base_currency":"EUR"}`, asUser(e.users.other))
	if p := decode[struct {
		OwnerID string `json:"owner_id"`
	}](t, body); resp.StatusCode != http.StatusCreated || p.OwnerID != e.users.other.ID.String() {
		t.Errorf("create without owner_id: %d %s; want 201 owned by the caller", resp.StatusCode, body)
	}
	resp, body = e.do(t, "POST", "/v1/portfolios", `{"name":"Theirs","base_currency":"EUR","owner_id":"`+e.users.owner.ID.String()+`"}`, asUser(e.users.other))
	checkProblem(t, "a USER creating for another user", resp, body, http.StatusForbidden, "forbidden")
	resp, body = e.do(t, "POST", "/v1/portfolios", `{"name":"Theirs","base_currency":"EUR","owner_id":"`+e.users.owner.ID.String()+`"}`, nil)
	if resp.StatusCode != http.StatusCreated {
		t.Errorf("an ADMIN creating for another user: %d %s; want 201", resp.StatusCode, body)
	}
}
