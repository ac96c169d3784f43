package ingress

import (
	"fmt"
	"sort"
	"strings"

	"github.com/dawsos/dawsos/storage"
)

// Role is what a user (or an API key) may do. Roles are ordered: each may
// do everything the roles below it may.
type Role int

// The roles, lowest first. rolePublic is the "role" of routes that need
// no credentials at all.
const (
	rolePublic Role = iota
	RoleViewer
	RoleUser
	RoleManager
	RoleAdmin
)

var roleNames = map[Role]string{
	rolePublic: "PUBLIC", RoleViewer: storage.RoleViewer, RoleUser: storage.RoleUser,
	RoleManager: storage.RoleManager, RoleAdmin: storage.RoleAdmin,
}

func (r Role) String() string { return roleNames[r] }

// ParseRole reads a role name (VIEWER, USER, MANAGER, ADMIN).
func ParseRole(s string) (Role, bool) {
	for r, n := range roleNames {
		if r != rolePublic && n == s {
			return r, true
		}
	}
	return rolePublic, false
}

// ownedParam names the path parameter that identifies an object of a kind
// someone owns (storage.OwnedPortfolio, ...).
type ownedParam struct {
	kind  string
	param string
}

// access is one route's rule: who may call it, which object in its path
// must be the caller's, and how the audit log names what it does.
type access struct {
	// role is the lowest role that may call the route.
	role Role
	// object, when set, is checked for every caller but an ADMIN: an
	// object of another user, or none, is 404, so ids are not confirmed.
	object *ownedParam
	// action names the route in audit_log; set for every route that
	// writes or is an operator's action.
	action string
	// resource is the audit row's resource, with ":param" replaced by
	// the path parameter.
	resource string
	// metrics marks /metrics, whose rule is configured (Config.Metrics).
	metrics bool
}

func owned(kind, param string) *ownedParam { return &ownedParam{kind: kind, param: param} }

// routeAccess is the one table of who may call what, keyed "METHOD /path"
// as the router has it. A route registered without an entry makes New
// fail, and the authorisation tests walk the router against it, so no
// route can be forgotten.
var routeAccess = map[string]access{
	"GET /healthz": {role: rolePublic},
	"GET /readyz":  {role: rolePublic},
	"GET /metrics": {role: RoleManager, metrics: true},

	"POST /v1/auth/login":                 {role: rolePublic, action: "auth.login", resource: "session"},
	"POST /v1/auth/refresh":               {role: rolePublic, action: "auth.refresh", resource: "session"},
	"POST /v1/auth/logout":                {role: RoleViewer, action: "auth.logout", resource: "session"},
	"GET /v1/auth/me":                     {role: RoleViewer},
	"POST /v1/auth/keys":                  {role: RoleViewer, action: "auth.key_create", resource: "api_keys"},
	"GET /v1/auth/keys":                   {role: RoleViewer},
	"DELETE /v1/auth/keys/:id":            {role: RoleViewer, object: owned(storage.OwnedAPIKey, "id"), action: "auth.key_revoke", resource: "api_key::id"},
	"GET /v1/users":                       {role: RoleAdmin},
	"POST /v1/users":                      {role: RoleAdmin, action: "user.create", resource: "users"},
	"PATCH /v1/users/:id":                 {role: RoleAdmin, action: "user.update", resource: "user::id"},
	"GET /v1/audit":                       {role: RoleAdmin},
	"POST /v1/runs":                       {role: RoleUser, action: "run.submit", resource: "runs"},
	"POST /v1/runs\\:batch":               {role: RoleUser, action: "run.submit_batch", resource: "runs"},
	"GET /v1/runs":                        {role: RoleViewer},
	"GET /v1/runs/:id":                    {role: RoleViewer, object: owned(storage.OwnedRun, "id")},
	"POST /v1/runs/:id/cancel":            {role: RoleUser, object: owned(storage.OwnedRun, "id"), action: "run.cancel", resource: "run::id"},
	"GET /v1/runs/:id/events":             {role: RoleViewer, object: owned(storage.OwnedRun, "id")},
	"GET /v1/patterns":                    {role: RoleViewer},
	"POST /v1/patterns/validate":          {role: RoleViewer},
	"GET /v1/patterns/:id":                {role: RoleViewer},
	"GET /v1/capabilities":                {role: RoleViewer},
	"GET /v1/breakers":                    {role: RoleViewer},
	"POST /v1/breakers/:capability/reset": {role: RoleManager, action: "breaker.reset", resource: "breaker::capability"},
	"POST /v1/breakers/:capability/open":  {role: RoleManager, action: "breaker.force_open", resource: "breaker::capability"},
	"GET /v1/dlq":                         {role: RoleViewer},
	"POST /v1/dlq/replay":                 {role: RoleManager, action: "dlq.replay_capability", resource: "dead_letters"},
	"GET /v1/dlq/:id":                     {role: RoleViewer, object: owned(storage.OwnedDeadLetter, "id")},
	"POST /v1/dlq/:id/replay":             {role: RoleManager, object: owned(storage.OwnedDeadLetter, "id"), action: "dlq.replay", resource: "dead_letter::id"},
	"GET /v1/files/:id":                   {role: RoleViewer, object: owned(storage.OwnedFile, "id")},
	"GET /v1/portfolios":                  {role: RoleViewer},
	"POST /v1/portfolios":                 {role: RoleUser, action: "portfolio.create", resource: "portfolios"},
	"GET /v1/portfolios/:id":              {role: RoleViewer, object: owned(storage.OwnedPortfolio, "id")},
	"POST /v1/portfolios/:id/transactions": {role: RoleUser, object: owned(storage.OwnedPortfolio, "id"),
		action: "portfolio.trade", resource: "portfolio::id"},
	"POST /v1/portfolios/:id/transactions\\:import": {role: RoleUser, object: owned(storage.OwnedPortfolio, "id"),
		action: "portfolio.import_transactions", resource: "portfolio::id"},
	"POST /v1/prices\\:import": {role: RoleManager, action: "prices.import", resource: "prices"},

	// The web console (ingress/console.go): its pages read what the API
	// reads, under the same roles; its actions are the API's routes above,
	// called from the page, plus the login and logout forms and the
	// replay check (which changes nothing).
	"GET /assets/console.css": {role: rolePublic},
	"GET /assets/console.js":  {role: rolePublic},
	"GET /assets/icon.svg":    {role: rolePublic},
	"GET /login":              {role: rolePublic},
	"POST /login":             {role: rolePublic, action: "auth.login", resource: "session"},
	"POST /logout":            {role: RoleViewer, action: "auth.logout", resource: "session"},
	"GET /":                   {role: RoleViewer},
	"GET /runs":               {role: RoleViewer},
	"GET /runs/:id":           {role: RoleViewer, object: owned(storage.OwnedRun, "id")},
	"GET /capabilities":       {role: RoleViewer},
	"GET /dlq":                {role: RoleViewer},
	"GET /dlq/:id":            {role: RoleViewer, object: owned(storage.OwnedDeadLetter, "id")},
	"POST /dlq/:id/check":     {role: RoleManager, object: owned(storage.OwnedDeadLetter, "id")},
	"GET /patterns":           {role: RoleViewer},
	"GET /patterns/:id":       {role: RoleViewer},
	"GET /portfolios":         {role: RoleViewer},
	"GET /portfolios/:id":     {role: RoleViewer, object: owned(storage.OwnedPortfolio, "id")},
}

// RouteRule describes a route's rule for the tests that walk the router:
// the lowest role, the kind of object its path names ("" for none),
// whether it is audited, and whether it is /metrics. ok is false for a
// route without an entry.
func RouteRule(key string) (min Role, objectKind string, audited, metrics, ok bool) {
	a, ok := routeAccess[key]
	if !ok {
		return 0, "", false, false, false
	}
	if a.object != nil {
		objectKind = a.object.kind
	}
	return a.role, objectKind, a.action != "", a.metrics, true
}

// RouteKeys lists the keys of the table, sorted.
func RouteKeys() []string {
	out := make([]string, 0, len(routeAccess))
	for k := range routeAccess {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// resourceOf expands the rule's resource with the request's parameters.
func (a access) resourceOf(param func(string) string) string {
	r := a.resource
	for {
		i := strings.Index(r, "::")
		if i < 0 {
			return r
		}
		j := i + 2
		for j < len(r) && (r[j] == '_' || r[j] >= 'a' && r[j] <= 'z') {
			j++
		}
		r = r[:i+1] + param(r[i+2:j]) + r[j:]
	}
}

// checkRouteTable reports every route of the router that has no rule:
// New refuses to build such a server.
func checkRouteTable(routes []string, guarded map[string]bool) error {
	var missing []string
	for _, key := range routes {
		if !guarded[key] {
			missing = append(missing, key)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	sort.Strings(missing)
	return fmt.Errorf("ingress: routes without an access rule (register them through the guarded router and add them to routeAccess in ingress/access.go): %s",
		strings.Join(missing, ", "))
}
