package ingress_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/dawsos/dawsos/ingress"
)

// malformedValues are what the generated test puts into every field:
// every JSON type, out-of-range and huge numbers, text PostgreSQL cannot
// store, and deep nesting.
var malformedValues = []string{
	`"x"`, `""`, `1`, `-9223372036854775809`, `1e400`, `0.00000000000000000000001`, `true`, `null`, `[]`, `{}`,
	`"\u0000"`, `"` + strings.Repeat("a", 3000) + `"`, `"` + strings.Repeat("9", 3000) + `"`,
	strings.Repeat("[", 200) + strings.Repeat("]", 200), `{"nested": {"deeper": [1, "\u0000"]}}`,
}

// malformedText are what it puts into path parameters and query values.
var malformedText = []string{"not-a-uuid", "%00", "%ff%fe", "..%2F..%2Fetc", strings.Repeat("a", 3000), "-1", "1e400", "%2A%3E", "'; DROP TABLE runs; --"}

// TestEveryRouteRefusesMalformedInput walks the router: every route must
// have an entry in the ingress's table of route inputs, and every field of
// its body, every query parameter and every path parameter gets each
// malformed value. No answer is a 5xx, and every error is problem+json
// with a correlation id.
func TestEveryRouteRefusesMalformedInput(t *testing.T) {
	t.Parallel()
	e := setup(t)
	seen := map[string]bool{}
	sent := 0
	for _, r := range e.srv.App().GetRoutes() {
		if r.Method == "HEAD" || r.Method == "USE" || r.Path == "/" || strings.HasSuffix(r.Path, "/metrics") || strings.HasSuffix(r.Path, "/events") {
			// HEAD mirrors GET; events is a stream (its parameters are
			// tested by the events tests).
			continue
		}
		key := r.Method + " " + r.Path
		if seen[key] {
			continue
		}
		seen[key] = true
		fields, csv, query := ingress.RouteInputs(key)
		if r.Method == "POST" && fields == nil && !csv && !strings.HasSuffix(r.Path, "/cancel") && !strings.HasSuffix(r.Path, "/reset") && !strings.HasSuffix(r.Path, "/open") {
			t.Errorf("route %s reads a body that the ingress's route table does not describe", key)
			continue
		}
		paths := []string{r.Path}
		if strings.Contains(r.Path, ":") {
			paths = nil
			for _, v := range malformedText {
				paths = append(paths, fillParams(r.Path, v))
			}
		}
		valid := fillParams(r.Path, "00000000-0000-0000-0000-000000000000")
		var cases []struct{ path, body, ctype, what string }
		add := func(path, body, ctype, what string) {
			cases = append(cases, struct{ path, body, ctype, what string }{path, body, ctype, what})
		}
		for _, p := range paths {
			add(p, "{}", "application/json", "path "+p)
		}
		for _, q := range query {
			for _, v := range malformedText {
				add(valid+"?"+q+"="+v, "{}", "application/json", "query "+q+"="+v)
			}
		}
		for _, f := range fields {
			for _, v := range malformedValues {
				add(valid, `{"`+f+`": `+v+`}`, "application/json", "field "+f+" = "+short(v))
			}
		}
		if csv {
			for _, body := range []string{"\x00\xff", "a,b\n" + strings.Repeat("x,", 1500), "trade_date,type\n2024-01-01,BUY\x00\n"} {
				add(valid, body, "text/csv", "csv "+short(body))
			}
		}
		if r.Method == "POST" {
			add(valid, `{"a":`, "application/json", "truncated JSON")
			add(valid, "\xff\xfe", "application/json", "invalid UTF-8")
		}
		for _, c := range cases {
			req, err := http.NewRequest(r.Method, c.path, strings.NewReader(c.body))
			if err != nil {
				// A path the HTTP client refuses to build never reaches a
				// server through it either.
				continue
			}
			req.Header.Set("Content-Type", c.ctype)
			req.Header.Set("Authorization", e.users.admin.bearer())
			sent++
			resp, err := e.srv.App().Test(req, 30000)
			if err != nil {
				t.Fatalf("%s, %s: %v", key, c.what, err)
			}
			var p struct {
				Code          string `json:"code"`
				CorrelationID string `json:"correlation_id"`
			}
			decErr := json.NewDecoder(resp.Body).Decode(&p)
			resp.Body.Close()
			if resp.StatusCode >= 500 && resp.StatusCode != http.StatusServiceUnavailable {
				t.Errorf("%s, %s: %d %s; malformed input must never be a 5xx", key, c.what, resp.StatusCode, p.Code)
				continue
			}
			if resp.StatusCode >= 400 && (resp.Header.Get("Content-Type") != ingress.ContentTypeProblem || decErr != nil || p.Code == "" || p.CorrelationID == "") {
				t.Errorf("%s, %s: %d with content type %q; every error must be problem+json with a code and a correlation id",
					key, c.what, resp.StatusCode, resp.Header.Get("Content-Type"))
			}
		}
	}
	if len(seen) < 15 || sent < 500 {
		t.Fatalf("walked %d routes with %d requests; the router looks empty", len(seen), sent)
	}
	t.Logf("%d routes, %d malformed requests", len(seen), sent)
}

// fillParams puts v (escaped unless it is already a %-escape) into every
// :param of a route path.
func fillParams(path, v string) string {
	if !strings.HasPrefix(v, "%") {
		v = url.PathEscape(v)
	}
	parts := strings.Split(path, "/")
	for i, p := range parts {
		if strings.HasPrefix(p, ":") {
			parts[i] = v
		}
	}
	return strings.ReplaceAll(strings.Join(parts, "/"), "\\:", ":")
}

func short(s string) string {
	if len(s) > 30 {
		return fmt.Sprintf("%s... (%d bytes)", s[:30], len(s))
	}
	return s
}
