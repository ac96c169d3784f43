package ingress_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/nats-io/nats.go"
)

// hostile are values with SQL and NATS subject metacharacters: quotes and
// comments, a statement separator, wildcards, a subject token break.
var hostile = []string{"' OR '1'='1", "x'; DROP TABLE runs; --", "*", ">", "dawsos.step.>", "test.add_one.>", "a b", "test.add_one\r\nPUB x"}

// TestInjectionIsInert sends hostile pattern ids, capability names and
// filter values to every place that takes one, with a run and a pending
// dead letter in the database: each is refused or matches nothing, no
// message is published on a subject built from it, and the tables are
// all still there afterwards.
func TestInjectionIsInert(t *testing.T) {
	t.Parallel()
	e := setup(t)
	obj := ownedObjects(t, e)
	var mu sync.Mutex
	var subjects []string
	sub, err := e.bus.Conn.Subscribe(">", func(m *nats.Msg) {
		mu.Lock()
		subjects = append(subjects, m.Subject)
		mu.Unlock()
	})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = sub.Unsubscribe() }()
	mgr := asUser(e.users.manager)
	owner := asUser(e.users.owner)

	for _, v := range hostile {
		esc := url.PathEscape(v)
		q := url.QueryEscape(v)
		for _, c := range []struct {
			method, path, body string
			as                 map[string]string
		}{
			{"GET", "/v1/patterns/" + esc, "", owner},
			{"POST", "/v1/runs", `{"pattern":` + quote(v) + `,"inputs":{}}`, owner},
			{"POST", "/v1/breakers/" + esc + "/reset", "", mgr},
			{"POST", "/v1/dlq/replay", `{"capability":` + quote(v) + `}`, nil},
			{"GET", "/v1/runs?pattern=" + q, "", owner},
			{"GET", "/v1/runs?status=" + q, "", owner},
			{"GET", "/v1/dlq?capability=" + q, "", nil},
			{"GET", "/v1/dlq?status=" + q, "", nil},
			{"GET", "/v1/audit?action=" + q, "", nil},
			{"GET", "/v1/audit?outcome=" + q, "", nil},
			{"GET", "/v1/runs?limit=" + q, "", owner},
		} {
			resp, body := e.do(t, c.method, c.path, c.body, c.as)
			name := c.method + " " + c.path
			switch {
			case resp.StatusCode >= 500:
				t.Errorf("%s: %d %s", name, resp.StatusCode, body)
			case resp.StatusCode < 300 && c.method == "GET":
				// A filter that matches nothing lists nothing of the
				// database's runs and dead letters.
				if strings.Contains(string(body), obj["run"]) || strings.Contains(string(body), obj["dead_letter"]) {
					t.Errorf("%s listed rows: %s", name, body)
				}
			case resp.StatusCode < 300 && c.method == "POST" && !strings.Contains(string(body), `"outcomes":[]`):
				t.Errorf("%s acted: %d %s", name, resp.StatusCode, body)
			}
		}
	}
	// Every table is still there, and so is the pending dead letter.
	var status string
	if err := e.db.QueryRow(context.Background(), `SELECT status FROM dead_letters WHERE id = $1`, []any{obj["dead_letter"]}, &status); err != nil || status != "pending" {
		t.Errorf("the dead letter after the hostile replays: %q %v; want still pending", status, err)
	}
	var runs int
	if err := e.db.QueryRow(context.Background(), `SELECT count(*) FROM runs`, nil, &runs); err != nil || runs != 1 {
		t.Errorf("runs after the hostile requests: %d %v; want the one run", runs, err)
	}
	if err := e.bus.Conn.Flush(); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, s := range subjects {
		for _, v := range hostile[:2] {
			if strings.Contains(s, v) || strings.ContainsAny(s, "' *\r\n") {
				t.Errorf("a message went to subject %q built from a hostile value", s)
			}
		}
	}
	if resp, _ := e.do(t, "GET", "/v1/runs", "", nil); resp.StatusCode != http.StatusOK {
		t.Errorf("GET /v1/runs after the hostile requests: %d", resp.StatusCode)
	}
}

func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"', '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case '\r':
			b.WriteString(`\r`)
		case '\n':
			b.WriteString(`\n`)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}
