package ingress_test

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/dawsos/dawsos/bus"
	"github.com/dawsos/dawsos/ingress"
	"github.com/dawsos/dawsos/storage/pgtest"
)

// TestListenPortInUse checks that a taken port is reported as such, naming
// the address, instead of a bare bind error.
func TestListenPortInUse(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var noAgents *bus.AgentRouter // a process without agents
	srv, err := ingress.New(ingress.Deps{Breakers: noAgents}, withAuth(ingress.Config{}))
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}()
	addr := ln.Addr().String()
	err = srv.Listen(addr)
	if err == nil || !strings.Contains(err.Error(), "already in use") || !strings.Contains(err.Error(), addr) {
		t.Errorf("Listen(%s) on a taken port: %v; want an error saying the address is in use", addr, err)
	}
}

// TestNoAgents checks a process that hosts no agents: no breakers to list,
// and a reset names the capability it has no breaker for.
func TestNoAgents(t *testing.T) {
	t.Parallel()
	var noAgents *bus.AgentRouter
	db := pgtest.NewDB(t) // for the credentials only
	srv, err := ingress.New(ingress.Deps{Breakers: noAgents, DB: db}, withAuth(ingress.Config{}))
	if err != nil {
		t.Fatal(err)
	}
	e := &env{srv: srv, users: newPeople(t, db)}
	resp, body := e.do(t, "GET", "/v1/breakers", "", nil)
	if resp.StatusCode != 200 || strings.TrimSpace(string(body)) != `{"breakers":[]}` {
		t.Errorf("GET /v1/breakers without agents: status %d, body %s; want 200 {\"breakers\":[]}", resp.StatusCode, body)
	}
	resp, body = e.do(t, "POST", "/v1/breakers/test.add_one/reset", "", nil)
	if p := checkProblem(t, "reset without agents", resp, body, 404, "not_found"); p.Capability != "test.add_one" {
		t.Errorf("capability %q, want test.add_one", p.Capability)
	}
}
