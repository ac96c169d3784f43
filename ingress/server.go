// Package ingress is the HTTP front door of DawsOS (ARCHITECTURE.md §6): a
// Fiber app that submits and follows runs, streams run events over
// Server-Sent Events, lists patterns, capabilities, breakers and dead
// letters, and answers health, readiness and metrics probes. Every error
// leaves it as application/problem+json and every response carries an
// X-Correlation-ID.
package ingress

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"reflect"
	"sync"
	"syscall"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/crypto/bcrypt"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/bus"
	"github.com/dawsos/dawsos/console"
	"github.com/dawsos/dawsos/orchestrator"
	"github.com/dawsos/dawsos/patterns"
	"github.com/dawsos/dawsos/storage"
)

// BreakerSource is what the ingress needs of the breakers: the cluster's
// (a *bus.BreakerSet, whichever process hosts each capability) or, in
// tests, one router's. It may be nil.
type BreakerSource interface {
	Breakers() []bus.BreakerSnapshot
	Breaker(capability string) (*bus.Breaker, bool)
}

// Deps are the parts of the process the ingress serves.
type Deps struct {
	Engine   *orchestrator.Engine
	Patterns *patterns.Set
	Registry *agents.Registry
	// Catalog validates pattern documents (POST /v1/patterns/validate).
	Catalog  patterns.Catalog
	Breakers BreakerSource
	DB       *storage.DB
	Bus      *bus.Bus
	// Gatherer is served on /metrics; Registerer receives the ingress's
	// own collectors (runs by status, dead-letter depth, pool stats).
	Gatherer   prometheus.Gatherer
	Registerer prometheus.Registerer
	Logger     *slog.Logger
	// Probes are readiness checks beyond the pool, NATS and migrations
	// (the managed PostgreSQL's supervisor, say), by name.
	Probes map[string]func() error
}

// Config is the server section of the configuration.
type Config struct {
	// BodyLimit bounds request bodies in bytes; larger ones get 413 before
	// they are read.
	BodyLimit int
	// WaitMax bounds ?wait on POST /v1/runs.
	WaitMax time.Duration
	// BatchMax bounds the runs of one POST /v1/runs:batch (default 1,000).
	BatchMax int
	// RequestTimeout is the deadline of every request (server.request_timeout);
	// 30 s when zero. POST /v1/runs?wait= gets the wait on top of it, and
	// an event stream, which has no overall deadline, gets it for each of
	// its database reads.
	RequestTimeout time.Duration
	// KeepAlive is the interval of SSE comment lines that keep idle
	// streams (and the proxies in front of them) open.
	KeepAlive time.Duration
	// Poll is how often waiting requests and streams re-read PostgreSQL
	// when no change notification arrived; 1 s when zero.
	Poll time.Duration
	// Version is reported by /healthz.
	Version string
	// Auth configures authentication; Auth.Signer is required.
	Auth AuthConfig
	// Metrics says who may scrape /metrics without a token:
	// MetricsLoopback (the default), MetricsOpen or MetricsToken.
	Metrics string
	// DisableConsole turns the web console at / off (console.enabled:
	// false); it is served by default.
	DisableConsole bool
}

// AuthConfig is the auth section of the configuration.
type AuthConfig struct {
	// Signer signs and verifies access tokens (required).
	Signer *Signer
	// AccessTTL is the lifetime of an access token (15 min when zero);
	// RefreshTTL that of a login session and its refresh tokens (30 days
	// when zero).
	AccessTTL  time.Duration
	RefreshTTL time.Duration
	// CacheTTL is how long the state behind a credential (role, active,
	// session, key) is trusted before it is read again (2 s when zero).
	CacheTTL time.Duration
	// LoginWindow, LoginFailures and LoginFailuresPerAddress bound failed
	// logins: that many per account, and per client address, in each
	// window (15 min, 5 and 20 when zero).
	LoginWindow             time.Duration
	LoginFailures           int
	LoginFailuresPerAddress int
}

// Server is the HTTP front door. Create it with New, run it with Listen or
// Serve, stop it with Shutdown.
type Server struct {
	app  *fiber.App
	deps Deps
	cfg  Config
	log  *slog.Logger

	// stopping is closed by Shutdown so that long requests (?wait, SSE)
	// end and the listener can drain.
	stopping chan struct{}
	stopOnce sync.Once

	auth    *authenticator
	limiter *loginLimiter
	// dummyHash is what a login for an unknown email is compared with, so
	// it costs what a known one costs.
	dummyHash []byte
	// guardedKeys are the routes added through the guarded router;
	// routeErrs those it refused for want of a rule.
	guardedKeys map[string]bool
	routeErrs   []string
	// console renders the web console's pages; nil when it is off.
	console *console.Console
}

// New builds the app and registers the ingress's metrics collectors on
// deps.Registerer. It fails when a collector is already registered there.
func New(deps Deps, cfg Config) (*Server, error) {
	if deps.Logger == nil {
		deps.Logger = slog.Default()
	}
	if cfg.BodyLimit <= 0 {
		cfg.BodyLimit = 1 << 20
	}
	if cfg.BatchMax <= 0 {
		cfg.BatchMax = 1000
	}
	if cfg.WaitMax <= 0 {
		cfg.WaitMax = 60 * time.Second
	}
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = 30 * time.Second
	}
	if cfg.KeepAlive <= 0 {
		cfg.KeepAlive = 15 * time.Second
	}
	if cfg.Poll <= 0 {
		cfg.Poll = time.Second
	}
	if v := reflect.ValueOf(deps.Breakers); deps.Breakers != nil && v.Kind() == reflect.Pointer && v.IsNil() {
		// A nil *bus.AgentRouter in the interface means "no agents here".
		deps.Breakers = nil
	}
	if err := cfg.Auth.defaults(); err != nil {
		return nil, err
	}
	switch cfg.Metrics {
	case "":
		cfg.Metrics = MetricsLoopback
	case MetricsLoopback, MetricsOpen, MetricsToken:
	default:
		return nil, fmt.Errorf("ingress: metrics access %q is not %s, %s or %s", cfg.Metrics, MetricsLoopback, MetricsOpen, MetricsToken)
	}
	dummy, err := bcrypt.GenerateFromPassword([]byte(uuid.NewString()), bcrypt.DefaultCost)
	if err != nil {
		return nil, fmt.Errorf("ingress: hash the stand-in password: %w", err)
	}
	s := &Server{deps: deps, cfg: cfg, log: deps.Logger, stopping: make(chan struct{}),
		auth:      newAuthenticator(cfg.Auth.Signer, deps.DB, cfg.Auth.CacheTTL),
		limiter:   newLoginLimiter(cfg.Auth.LoginWindow, cfg.Auth.LoginFailures, cfg.Auth.LoginFailuresPerAddress),
		dummyHash: dummy, guardedKeys: map[string]bool{}}
	if !cfg.DisableConsole {
		var bs console.BreakerSource
		if deps.Breakers != nil {
			bs = deps.Breakers
		}
		s.console = console.New(console.Deps{Engine: deps.Engine, Patterns: deps.Patterns, Registry: deps.Registry,
			Catalog: deps.Catalog, Breakers: bs, DB: deps.DB, Logger: deps.Logger})
	}
	if deps.Registerer != nil {
		if err := registerCollectors(deps.Registerer, deps.DB); err != nil {
			return nil, err
		}
	}
	s.app = fiber.New(fiber.Config{
		BodyLimit:             cfg.BodyLimit,
		ErrorHandler:          s.handleError,
		DisableStartupMessage: true,
		// Handlers hand strings from the request to code that outlives
		// the request (the SSE writer, the run row); copies are safer than
		// fasthttp's reused buffers.
		Immutable:   true,
		ReadTimeout: 30 * time.Second,
		IdleTimeout: 2 * time.Minute,
	})
	s.app.Use(s.correlation, s.accessLog, s.recoverPanic, s.requestContext, s.checkText)
	s.routes()
	if err := s.checkRoutes(); err != nil {
		return nil, err
	}
	s.app.Server().Handler = s.guardEdge(s.app.Server().Handler)
	s.app.Server().HeaderReceived = headerReceived
	return s, nil
}

// App returns the Fiber app, for app.Test in tests and for mounting.
func (s *Server) App() *fiber.App { return s.app }

// routes adds every route through the guarded router, which gives each
// the rule of routeAccess.
func (s *Server) routes() {
	a := s.guarded(s.app, "")
	a.Get("/healthz", s.healthz)
	a.Get("/readyz", s.readyz)
	a.Get("/metrics", s.metrics())

	v1 := s.guarded(s.app.Group("/v1"), "/v1")
	s.registerAuthRoutes(v1)
	s.registerAdminRoutes(v1)
	v1.Post("/runs", s.submitRun)
	v1.Get("/runs", s.listRuns)
	v1.Get("/runs/:id", s.getRun)
	v1.Post("/runs/:id/cancel", s.cancelRun)
	v1.Get("/runs/:id/events", s.runEvents)
	v1.Post("/runs\\:batch", s.submitBatch)

	v1.Get("/patterns", s.listPatterns)
	v1.Post("/patterns/validate", s.validatePattern)
	v1.Get("/patterns/:id", s.getPattern)

	v1.Get("/capabilities", s.listCapabilities)
	v1.Get("/breakers", s.listBreakers)
	v1.Post("/breakers/:capability/reset", s.resetBreaker)
	v1.Post("/breakers/:capability/open", s.forceOpenBreaker)

	v1.Get("/dlq", s.listDeadLetters)
	v1.Post("/dlq/replay", s.replayCapability)
	v1.Get("/dlq/:id", s.getDeadLetter)
	v1.Post("/dlq/:id/replay", s.replayDeadLetter)
	v1.Get("/files/:id", s.getFile)

	registerPortfolioRoutes(v1, s.deps)
	s.registerPortfolioWriteRoutes(v1)

	s.registerConsoleRoutes(a)
}

// checkRoutes refuses a server with a route that has no access rule, or
// was added around the guarded router.
func (s *Server) checkRoutes() error {
	if len(s.routeErrs) > 0 {
		return checkRouteTable(s.routeErrs, nil)
	}
	var keys []string
	for _, r := range s.app.GetRoutes(true) {
		method := r.Method
		if method == fiber.MethodHead {
			method = fiber.MethodGet
		}
		keys = append(keys, method+" "+r.Path)
	}
	return checkRouteTable(keys, s.guardedKeys)
}

func (a *AuthConfig) defaults() error {
	if a.Signer == nil {
		return errors.New("ingress: no access-token signer (auth.jwt_secret or auth.jwt_key_file)")
	}
	if a.AccessTTL <= 0 {
		a.AccessTTL = 15 * time.Minute
	}
	if a.RefreshTTL <= 0 {
		a.RefreshTTL = 30 * 24 * time.Hour
	}
	return nil
}

// Listen serves on addr until Shutdown. A port already in use is reported
// as such, naming the address.
func (s *Server) Listen(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return fmt.Errorf("listen on %s: the address is already in use (another dawsos or another program holds the port; change server.listen): %w", addr, err)
		}
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	return s.Serve(ln)
}

// Serve serves on ln until Shutdown.
func (s *Server) Serve(ln net.Listener) error {
	s.log.Info("http listening", "addr", ln.Addr().String())
	if err := s.app.Listener(ln); err != nil {
		return fmt.Errorf("serve http on %s: %w", ln.Addr(), err)
	}
	return nil
}

// Shutdown ends waiting requests and event streams, stops accepting
// connections and waits for open requests until ctx ends.
func (s *Server) Shutdown(ctx context.Context) error {
	s.stopOnce.Do(func() { close(s.stopping) })
	if err := s.app.ShutdownWithContext(ctx); err != nil {
		return fmt.Errorf("shut down http server: %w", err)
	}
	return nil
}
