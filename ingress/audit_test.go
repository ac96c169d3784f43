package ingress_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/dawsos/dawsos/storage"
)

// auditRow is what the tests read of audit_log, with the id of the
// transaction that wrote the row.
type auditRow struct {
	user, action, resource, outcome, ip, cid string
	xmin                                     uint32
}

func (e *env) auditRows(t *testing.T, action string) []auditRow {
	t.Helper()
	var out []auditRow
	err := e.db.Query(context.Background(), func(rows pgx.Rows) error {
		for rows.Next() {
			var r auditRow
			if err := rows.Scan(&r.user, &r.action, &r.resource, &r.outcome, &r.ip, &r.cid, &r.xmin); err != nil {
				return err
			}
			out = append(out, r)
		}
		return nil
	}, `SELECT coalesce(user_id::text, ''), action, resource, outcome, coalesce(host(ip), ''), coalesce(correlation_id, ''), xmin::text::bigint
		FROM audit_log WHERE action = $1 ORDER BY id`, action)
	if err != nil {
		t.Fatalf("read audit rows of %s: %v", action, err)
	}
	return out
}

// xminOf is the id of the transaction that last wrote a row.
func (e *env) xminOf(t *testing.T, table, id string) uint32 {
	t.Helper()
	var x uint32
	if err := e.db.QueryRow(context.Background(), `SELECT xmin::text::bigint FROM `+table+` WHERE id = $1`, []any{id}, &x); err != nil {
		t.Fatalf("xmin of %s %s: %v", table, id, err)
	}
	return x
}

// TestAuditTrail: every write and operator action leaves one audit row
// naming who, what, the outcome, the address and the correlation id, and
// a change's row is written by the change's own transaction (same xmin);
// refused and failed requests leave a row too, and GET /v1/audit shows
// them to an ADMIN only.
func TestAuditTrail(t *testing.T) {
	t.Parallel()
	e := setup(t)
	owner := e.users.owner
	hdr := func(u testUser, cid string) map[string]string {
		return map[string]string{"Authorization": u.bearer(), "X-Correlation-ID": cid}
	}
	resp, body := e.do(t, "POST", "/v1/portfolios", `{"name":"Audited","base_currency":"USD"}`, hdr(owner, "create-1"))
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create: %d %s", resp.StatusCode, body)
	}
	pid := decode[struct{ ID string }](t, body).ID
	rows := e.auditRows(t, "portfolio.create")
	if len(rows) != 1 || rows[0].user != owner.ID.String() || rows[0].resource != "portfolio:"+pid || rows[0].outcome != storage.AuditOK ||
		rows[0].cid != "create-1" || rows[0].ip == "" {
		t.Fatalf("audit of portfolio.create: %+v", rows)
	}
	if x := e.xminOf(t, "portfolios", pid); rows[0].xmin != x {
		t.Errorf("portfolio.create audited by transaction %d, the portfolio written by %d; want one transaction", rows[0].xmin, x)
	}

	// A submission: the run and its row are one batch, one transaction.
	resp, body = e.do(t, "POST", "/v1/runs?wait=15s", `{"pattern":"test_chain","inputs":{"n":1,"fail":true}}`, hdr(owner, "submit-1"))
	run := decode[struct {
		RunID string `json:"run_id"`
	}](t, body).RunID
	rows = e.auditRows(t, "run.submit")
	if resp.StatusCode != http.StatusOK || len(rows) != 1 || rows[0].resource != "run:"+run || rows[0].cid != "submit-1" {
		t.Fatalf("audit of run.submit: %d %+v", resp.StatusCode, rows)
	}
	var created uint32
	if err := e.db.QueryRow(context.Background(), `SELECT xmin::text::bigint FROM run_events WHERE run_id = $1 AND seq = 1`, []any{run}, &created); err != nil {
		t.Fatal(err)
	}
	if rows[0].xmin != created {
		t.Errorf("run.submit audited by transaction %d, the run's first event written by %d; want one transaction", rows[0].xmin, created)
	}

	// A trade that fails leaves a failed row and no ok row; a replay's
	// row shares the replay's transaction.
	resp, _ = e.do(t, "POST", "/v1/portfolios/"+pid+"/transactions", `{"type":"BUY","symbol":"NOPE","quantity":"1","price":"1","trade_date":"2024-01-02"}`, hdr(owner, "trade-1"))
	if rows := e.auditRows(t, "portfolio.trade"); resp.StatusCode < 400 || len(rows) != 1 || rows[0].outcome != storage.AuditFailed {
		t.Errorf("audit of a refused trade (%d): %+v; want one failed row", resp.StatusCode, rows)
	}
	_, body = e.do(t, "GET", "/v1/dlq?run_id="+run, "", nil)
	dl := decode[struct {
		DeadLetters []struct{ ID string } `json:"dead_letters"`
	}](t, body).DeadLetters[0].ID
	if resp, body := e.do(t, "POST", "/v1/dlq/"+dl+"/replay", "", hdr(e.users.admin, "replay-1")); resp.StatusCode != http.StatusAccepted {
		t.Fatalf("replay: %d %s", resp.StatusCode, body)
	}
	rows = e.auditRows(t, "dlq.replay")
	if len(rows) != 1 || rows[0].resource != "dead_letter:"+dl || rows[0].xmin != e.xminOf(t, "dead_letters", dl) {
		t.Errorf("audit of dlq.replay: %+v; want one row written by the replay's transaction", rows)
	}

	// Operator actions: a breaker reset changes nothing in the database
	// but is audited; refused, it is audited as denied.
	e.do(t, "POST", "/v1/breakers/test.add_one/reset", "", hdr(owner, "reset-denied"))
	e.do(t, "POST", "/v1/breakers/test.add_one/reset", "", hdr(e.users.manager, "reset-ok"))
	rows = e.auditRows(t, "breaker.reset")
	if len(rows) != 2 || rows[0].outcome != storage.AuditDenied || rows[0].user != owner.ID.String() ||
		rows[1].outcome != storage.AuditOK || rows[1].resource != "breaker:test.add_one" {
		t.Errorf("audit of breaker.reset: %+v; want denied for the USER, ok for the MANAGER", rows)
	}

	// Logins: a success in the session's transaction, a failure without
	// the password, an unknown email without a user.
	e.login(t, owner.Email, owner.Password)
	e.login(t, owner.Email, "wrong-password")
	e.login(t, "nobody@test.example", "wrong-password")
	rows = e.auditRows(t, "auth.login")
	if len(rows) != 3 || rows[0].outcome != storage.AuditOK || !strings.HasPrefix(rows[0].resource, "session:") ||
		rows[1].outcome != storage.AuditDenied || rows[1].user != owner.ID.String() || rows[2].user != "" {
		t.Errorf("audit of auth.login: %+v", rows)
	}
	var leaked int
	if err := e.db.QueryRow(context.Background(), `SELECT count(*) FROM audit_log WHERE details::text LIKE '%password%'`, nil, &leaked); err != nil || leaked != 0 {
		t.Errorf("%d audit rows mention a password (%v)", leaked, err)
	}

	resp, body = e.do(t, "GET", "/v1/audit?action=breaker.reset", "", nil)
	if resp.StatusCode != http.StatusOK || strings.Count(string(body), `"action":"breaker.reset"`) != 2 {
		t.Errorf("GET /v1/audit as ADMIN: %d %s", resp.StatusCode, body)
	}
	resp, body = e.do(t, "GET", "/v1/audit", "", asUser(e.users.manager))
	checkProblem(t, "GET /v1/audit as MANAGER", resp, body, http.StatusForbidden, "forbidden")
}
