package ingress_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/dawsos/dawsos/ingress"
	"github.com/dawsos/dawsos/storage"
)

// objects are one object of every owned kind, all of them users.owner's:
// a portfolio, a run whose last step was dead-lettered, that dead letter,
// a file of the run and an API key.
type objects map[string]string

// ownedObjects makes the owner's objects through the API, as the owner.
func ownedObjects(t *testing.T, e *env) objects {
	t.Helper()
	as := asUser(e.users.owner)
	resp, body := e.do(t, "POST", "/v1/portfolios", `{"name":"Owner's book","base_currency":"USD"}`, as)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create the owner's portfolio: %d %s", resp.StatusCode, body)
	}
	obj := objects{storage.OwnedPortfolio: decode[struct{ ID string }](t, body).ID}
	resp, body = e.do(t, "POST", "/v1/runs?wait=15s", `{"pattern":"test_chain","inputs":{"n":1,"fail":true}}`, as)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("run the owner's failing chain: %d %s", resp.StatusCode, body)
	}
	run := decode[struct {
		RunID string `json:"run_id"`
	}](t, body).RunID
	obj[storage.OwnedRun] = run
	resp, body = e.do(t, "GET", "/v1/dlq?run_id="+run, "", as)
	dls := decode[struct {
		DeadLetters []struct{ ID string } `json:"dead_letters"`
	}](t, body).DeadLetters
	if resp.StatusCode != http.StatusOK || len(dls) != 1 {
		t.Fatalf("the owner's dead letters of run %s: %d %s; want one", run, resp.StatusCode, body)
	}
	obj[storage.OwnedDeadLetter] = dls[0].ID
	content := []byte("a report")
	sum := sha256.Sum256(content)
	err := e.db.Tx(context.Background(), func(tx pgx.Tx) error {
		f, err := storage.UpsertFile(context.Background(), tx, storage.File{RunID: uuid.MustParse(run), StepID: "checked",
			Name: "report.csv", MediaType: "text/csv", SHA256: hex.EncodeToString(sum[:]), Content: content})
		obj[storage.OwnedFile] = f.ID.String()
		return err
	})
	if err != nil {
		t.Fatalf("store a file of run %s: %v", run, err)
	}
	resp, body = e.do(t, "POST", "/v1/auth/keys", `{"name":"matrix"}`, as)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create the owner's key: %d %s", resp.StatusCode, body)
	}
	obj[storage.OwnedAPIKey] = decode[struct{ ID string }](t, body).ID
	return obj
}

// routeKeys lists the router's routes as "METHOD /path", HEAD left out
// (it mirrors GET).
func routeKeys(e *env) []string {
	seen := map[string]bool{}
	var out []string
	for _, r := range e.srv.App().GetRoutes(true) {
		key := r.Method + " " + r.Path
		if r.Method == http.MethodHead || seen[key] {
			continue
		}
		seen[key] = true
		out = append(out, key)
	}
	sort.Strings(out)
	return out
}

// requestFor builds a request on a route that reaches the handler when the
// caller may call it: its path parameters name the objects (or a pattern,
// a capability with a breaker, a user), and a body route gets an empty
// object (or CSV).
func requestFor(e *env, key string, obj objects) (method, path, body, ctype string) {
	method, path, _ = strings.Cut(key, " ")
	_, kind, _, _, _ := ingress.RouteRule(key)
	parts := strings.Split(path, "/")
	for i, p := range parts {
		switch {
		case p == ":capability":
			parts[i] = "test.add_one"
		case p == ":id" && kind != "":
			parts[i] = obj[kind]
		case p == ":id" && (strings.HasPrefix(path, "/v1/patterns/") || strings.HasPrefix(path, "/patterns/")):
			parts[i] = "test_chain"
		case p == ":id":
			parts[i] = e.users.other.ID.String()
		}
	}
	path = strings.ReplaceAll(strings.Join(parts, "/"), "\\:", ":")
	if _, csv, _ := ingress.RouteInputs(key); csv {
		return method, path, "symbol,date,close\n", "text/csv"
	}
	if method == http.MethodPost || method == http.MethodPatch {
		body, ctype = "{}", "application/json"
	}
	return method, path, body, ctype
}

// identity is one column of the matrix.
type identity struct {
	name   string
	header string // the Authorization header, "" for none
	role   ingress.Role
	owner  bool // owns the objects
	admin  bool
}

func identities(e *env) []identity {
	u := e.users
	other := mustSigner("another-secret-that-is-also-32-bytes-long")
	forged, _, err := other.Mint(u.admin.ID, storage.RoleAdmin, uuid.Nil, time.Hour)
	if err != nil {
		panic(err)
	}
	expired, _, err := testSigner.Mint(u.admin.ID, storage.RoleAdmin, uuid.Nil, -time.Minute)
	if err != nil {
		panic(err)
	}
	return []identity{
		{name: "no token"},
		{name: "expired token", header: "Bearer " + expired},
		{name: "token signed with another key", header: "Bearer " + forged},
		{name: "VIEWER", header: u.viewer.bearer(), role: ingress.RoleViewer},
		{name: "USER owner", header: u.owner.bearer(), role: ingress.RoleUser, owner: true},
		{name: "USER not owner", header: u.other.bearer(), role: ingress.RoleUser},
		{name: "MANAGER", header: u.manager.bearer(), role: ingress.RoleManager},
		{name: "ADMIN", header: u.admin.bearer(), role: ingress.RoleAdmin, admin: true},
	}
}

type answer struct {
	status int
	code   string
	body   string
}

func (e *env) answer(t *testing.T, method, path, body, ctype, authorization string) answer {
	t.Helper()
	resp, b := e.do(t, method, path, body, map[string]string{"Authorization": authorization, "Content-Type": ctype})
	var p struct {
		Code string `json:"code"`
	}
	_ = json.Unmarshal(b, &p)
	return answer{status: resp.StatusCode, code: p.Code, body: string(b)}
}

// TestAuthorizationMatrix walks the router: every route must have a rule
// in the access table (and every rule a route), and every route is called
// by every identity, the expected answer following from the rule alone.
// Without a usable credential: 401 unauthenticated; below the route's
// role: 403 forbidden; an object of another user: 404 not_found; allowed:
// anything but those. A public route answers everyone alike.
func TestAuthorizationMatrix(t *testing.T) {
	t.Parallel()
	e := setup(t)
	obj := ownedObjects(t, e)
	keys := routeKeys(e)
	inRouter := map[string]bool{}
	for _, k := range keys {
		inRouter[k] = true
	}
	for _, k := range ingress.RouteKeys() {
		if !inRouter[k] {
			t.Errorf("the access table has a rule for %s, which the router does not have", k)
		}
	}
	ids := identities(e)
	calls := 0
	defer func() { t.Logf("%d routes, %d calls", len(keys), calls) }()
	for _, key := range keys {
		// app.Test's client is not on loopback, so /metrics asks it for
		// its rule's role like any other route.
		min, kind, _, _, ok := ingress.RouteRule(key)
		if !ok {
			t.Errorf("route %s has no rule in the access table", key)
			continue
		}
		method, path, body, ctype := requestFor(e, key, obj)
		if min < ingress.RoleViewer {
			first := e.answer(t, method, path, body, ctype, "")
			for _, id := range ids {
				if got := e.answer(t, method, path, body, ctype, id.header); got.status != first.status || got.status == http.StatusForbidden {
					t.Errorf("public route %s as %s: status %d; as anonymous %d; want the same, not 403", key, id.name, got.status, first.status)
				}
			}
			continue
		}
		for _, id := range ids {
			calls++
			got := e.answer(t, method, path, body, ctype, id.header)
			want, wantCode := expected(id, min, kind)
			switch {
			case want == 0 && (got.status == 401 || got.status == 403 || got.status == 404):
				t.Errorf("%s %s as %s: status %d, want it allowed: %s", method, path, id.name, got.status, got.body)
			case want != 0 && (got.status != want || got.code != wantCode):
				t.Errorf("%s %s as %s: status %d code %q, want %d %s: %s", method, path, id.name, got.status, got.code, want, wantCode, got.body)
			}
		}
	}
}

// expected is the answer the rule gives an identity: 0 for allowed.
func expected(id identity, min ingress.Role, kind string) (int, string) {
	switch {
	case id.role == 0:
		return http.StatusUnauthorized, "unauthenticated"
	case id.role < min:
		return http.StatusForbidden, "forbidden"
	case kind != "" && !id.owner && !id.admin:
		return http.StatusNotFound, "not_found"
	}
	return 0, ""
}
