package ingress

import (
	"reflect"
	"sort"
	"strings"

	"github.com/dawsos/dawsos/console"
)

// What each route reads from the request besides its path: the JSON body's
// type and the query parameters. The route tests walk the router against
// this table, so a route added without an entry fails them, and they send
// malformed values to every field listed here.
var (
	bodyOf = map[string]any{
		"POST /v1/runs":                                 submitBody{},
		"POST /v1/runs\\:batch":                         batchBody{},
		"POST /v1/dlq/:id/replay":                       replayBody{},
		"POST /v1/dlq/replay":                           bulkReplayBody{},
		"POST /v1/portfolios":                           createPortfolioRequest{},
		"POST /v1/portfolios/:id/transactions":          tradeRequest{},
		"POST /v1/patterns/validate":                    map[string]any{}, // a pattern document
		"POST /v1/portfolios/:id/transactions\\:import": "text/csv",
		"POST /v1/prices\\:import":                      "text/csv",
		"POST /v1/auth/login":                           loginBody{},
		"POST /v1/auth/refresh":                         refreshBody{},
		"POST /v1/auth/logout":                          logoutBody{},
		"POST /v1/auth/keys":                            keyBody{},
		"POST /v1/users":                                newUserBody{},
		"PATCH /v1/users/:id":                           userPatch{},
		// The console's forms and its replay check (ingress/console.go).
		"POST /login":         "form",
		"POST /logout":        "form",
		"POST /dlq/:id/check": console.CheckBody{},
	}
	queryOf = map[string][]string{
		"POST /v1/runs":           {"wait"},
		"GET /v1/runs":            {"pattern", "status", "limit", "before"},
		"GET /v1/runs/:id/events": {"after"},
		"GET /v1/dlq":             {"capability", "status", "run_id", "limit"},
		"GET /v1/portfolios":      {"owner_id", "active"},
		"POST /v1/portfolios/:id/transactions\\:import": {"dry_run"},
		"POST /v1/prices\\:import":                      {"dry_run"},
		"GET /v1/audit":                                 {"user_id", "action", "outcome", "before", "limit"},
	}
)

// RouteInputs describes what a route reads: the JSON fields of its body
// ("text/csv" for a CSV body, nil for none) and its query parameters. key
// is "METHOD /path" as the router has it.
func RouteInputs(key string) (bodyFields []string, csv bool, query []string) {
	query = queryOf[key]
	b, ok := bodyOf[key]
	if !ok {
		return nil, false, query
	}
	if s, isText := b.(string); isText {
		if s == "form" {
			// A form's fields are read by name; none is JSON.
			return []string{}, false, query
		}
		return nil, s == "text/csv", query
	}
	t := reflect.TypeOf(b)
	if t.Kind() != reflect.Struct {
		return []string{}, false, query
	}
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if name != "" && name != "-" {
			bodyFields = append(bodyFields, name)
		}
	}
	sort.Strings(bodyFields)
	return bodyFields, false, query
}
