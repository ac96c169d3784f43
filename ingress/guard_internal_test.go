package ingress

import (
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"
)

// TestRoutesWithoutRuleAreRefused: New fails for a route added through
// the guarded router without a rule, and for one added around it.
func TestRoutesWithoutRuleAreRefused(t *testing.T) {
	t.Parallel()
	ok := func(*fiber.Ctx) error { return nil }
	for _, tc := range []struct {
		name string
		add  func(s *Server)
	}{
		{"no rule", func(s *Server) { s.guarded(s.app.Group("/v1"), "/v1").Get("/no-rule", ok) }},
		{"around the guard", func(s *Server) { s.app.Get("/v1/runs/:id/unguarded", ok) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := &Server{app: fiber.New(), guardedKeys: map[string]bool{}}
			s.guarded(s.app, "").Get("/healthz", ok)
			tc.add(s)
			err := s.checkRoutes()
			if err == nil || !strings.Contains(err.Error(), "without an access rule") {
				t.Fatalf("checkRoutes() = %v; want an error naming the route without a rule", err)
			}
		})
	}
	s := &Server{app: fiber.New(), guardedKeys: map[string]bool{}}
	s.guarded(s.app, "").Get("/healthz", ok)
	if err := s.checkRoutes(); err != nil {
		t.Fatalf("checkRoutes() with every route guarded = %v", err)
	}
}

// TestResourceOf expands the path parameters of audit resources.
func TestResourceOf(t *testing.T) {
	t.Parallel()
	params := map[string]string{"id": "42", "capability": "a.b"}
	for tmpl, want := range map[string]string{"run::id": "run:42", "breaker::capability": "breaker:a.b", "prices": "prices"} {
		if got := (access{resource: tmpl}).resourceOf(func(k string) string { return params[k] }); got != want {
			t.Errorf("resourceOf(%q) = %q, want %q", tmpl, got, want)
		}
	}
}
