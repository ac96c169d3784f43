// Package console is DawsOS's web console, served by `dawsos serve` at /:
// the operator's views of runs, capabilities and their breakers, dead
// letters and patterns, and the analyst's views of a portfolio, each of
// which is a pattern run whose every figure links to the step that made
// it.
//
// Pages are rendered on the server with html/template; charts are SVG
// drawn here; one small hand-written script (assets/console.js) colours
// steps live from the run's SSE stream and sends the operator's actions to
// the JSON API. Everything is embedded in the binary and nothing is loaded
// from elsewhere, so the console works without outbound network.
//
// The package renders and reads; authentication, roles, ownership checks
// and CSRF are the ingress's, which mounts every page through its guard
// and hands each handler the Caller it found.
package console

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"path"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/bus"
	"github.com/dawsos/dawsos/orchestrator"
	"github.com/dawsos/dawsos/patterns"
	"github.com/dawsos/dawsos/storage"
)

//go:embed assets templates
var files embed.FS

// Levels of Caller.Level, the ingress's roles in order.
const (
	LevelViewer  = 1
	LevelUser    = 2
	LevelManager = 3
	LevelAdmin   = 4
)

// Caller is who a page is rendered for, as the ingress's guard found it.
type Caller struct {
	UserID string
	Email  string
	Role   string
	// Level orders the roles (LevelViewer ... LevelAdmin); 0 when nobody
	// is signed in.
	Level int
	// CSRF is the session's CSRF token, which the page's script sends
	// with every action.
	CSRF string
}

// SignedIn reports whether a user is signed in.
func (c Caller) SignedIn() bool { return c.Level > 0 }

// CanSubmit reports whether the caller may submit runs (USER and up).
func (c Caller) CanSubmit() bool { return c.Level >= LevelUser }

// CanOperate reports whether the caller may act as an operator: replay
// dead letters, reset breakers (MANAGER and up).
func (c Caller) CanOperate() bool { return c.Level >= LevelManager }

// Admin reports whether the caller sees every user's objects.
func (c Caller) Admin() bool { return c.Level >= LevelAdmin }

// Handler renders one console route for a caller.
type Handler func(c *fiber.Ctx, who Caller) error

// Route is one console route for the ingress to mount through its guard.
type Route struct {
	Method  string
	Path    string
	Handler Handler
}

// BreakerSource lists the breakers (the ingress's BreakerSource).
type BreakerSource interface {
	Breakers() []bus.BreakerSnapshot
}

// Deps are what the console reads.
type Deps struct {
	Engine   *orchestrator.Engine
	Patterns *patterns.Set
	Registry *agents.Registry
	Catalog  patterns.Catalog
	Breakers BreakerSource
	DB       *storage.DB
	Logger   *slog.Logger
}

// Console renders the pages.
type Console struct {
	deps  Deps
	pages map[string]*template.Template
	// assetVersion is a hash of the assets, appended to their URLs so a
	// new binary's assets are never taken from an old cache.
	assetVersion string
}

// New parses the embedded templates; a template that does not parse is a
// bug of this package, so it panics.
func New(deps Deps) *Console {
	if deps.Logger == nil {
		deps.Logger = slog.Default()
	}
	c := &Console{deps: deps, pages: map[string]*template.Template{}}
	h := sha256.New()
	for _, a := range Assets() {
		b, err := files.ReadFile(a.file)
		if err != nil {
			panic(fmt.Sprintf("console: asset %s: %v", a.file, err))
		}
		h.Write(b)
	}
	c.assetVersion = hex.EncodeToString(h.Sum(nil))[:12]
	names, err := fs.Glob(files, "templates/*.html")
	if err != nil {
		panic(err)
	}
	for _, n := range names {
		base := path.Base(n)
		if base == "layout.html" {
			continue
		}
		t := template.Must(template.New(base).Funcs(funcs).ParseFS(files, "templates/layout.html", n))
		c.pages[strings.TrimSuffix(base, ".html")] = t
	}
	return c
}

// Asset is one embedded static file.
type Asset struct {
	Path        string
	file        string
	contentType string
}

// Assets lists the static files and the paths they are served at.
func Assets() []Asset {
	return []Asset{
		{Path: "/assets/console.css", file: "assets/console.css", contentType: "text/css; charset=utf-8"},
		{Path: "/assets/console.js", file: "assets/console.js", contentType: "text/javascript; charset=utf-8"},
		{Path: "/assets/icon.svg", file: "assets/icon.svg", contentType: "image/svg+xml"},
	}
}

// Asset serves one static file. A request naming the current version
// (?v=) may be cached for good.
func (c *Console) Asset(a Asset) fiber.Handler {
	body, err := files.ReadFile(a.file)
	if err != nil {
		panic(fmt.Sprintf("console: asset %s: %v", a.file, err))
	}
	return func(ctx *fiber.Ctx) error {
		ctx.Set(fiber.HeaderContentType, a.contentType)
		ctx.Set(fiber.HeaderXContentTypeOptions, "nosniff")
		if ctx.Query("v") == c.assetVersion {
			ctx.Set(fiber.HeaderCacheControl, "public, max-age=31536000, immutable")
		} else {
			ctx.Set(fiber.HeaderCacheControl, "no-cache")
		}
		return ctx.Send(body)
	}
}

// Pages lists the console's routes (paths as in the ingress's access
// table).
func (c *Console) Pages() []Route {
	get := func(p string, h Handler) Route { return Route{Method: fiber.MethodGet, Path: p, Handler: h} }
	return []Route{
		get("/", c.home),
		get("/runs", c.runs),
		get("/runs/:id", c.run),
		get("/capabilities", c.capabilities),
		get("/dlq", c.deadLetters),
		get("/dlq/:id", c.deadLetter),
		{Method: fiber.MethodPost, Path: "/dlq/:id/check", Handler: c.checkReplay},
		get("/patterns", c.patternList),
		get("/patterns/:id", c.pattern),
		get("/portfolios", c.portfolios),
		get("/portfolios/:id", c.portfolio),
	}
}

// page is what the layout renders around every page.
type page struct {
	Title   string
	Section string
	Who     Caller
	Assets  string
	Data    any
}

// contentSecurityPolicy allows nothing but this origin: no inline script,
// no other host, no framing.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
	"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// render writes a page.
func (c *Console) render(ctx *fiber.Ctx, status int, name, title, section string, who Caller, data any) error {
	t, ok := c.pages[name]
	if !ok {
		return fmt.Errorf("console: no template %s", name)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", page{Title: title, Section: section, Who: who, Assets: c.assetVersion, Data: data}); err != nil {
		return fmt.Errorf("render console page %s: %w", name, err)
	}
	ctx.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	ctx.Set(fiber.HeaderContentSecurityPolicy, contentSecurityPolicy)
	ctx.Set(fiber.HeaderXContentTypeOptions, "nosniff")
	ctx.Set(fiber.HeaderReferrerPolicy, "same-origin")
	ctx.Set(fiber.HeaderCacheControl, "no-store")
	ctx.Status(status)
	return ctx.Send(buf.Bytes())
}

// LoginForm is the login page's state.
type LoginForm struct {
	CSRF  string
	Next  string
	Email string
	Error string
}

// Login renders the login form.
func (c *Console) Login(ctx *fiber.Ctx, f LoginForm, status int) error {
	return c.render(ctx, status, "login", "Sign in", "", Caller{}, f)
}

// Problem is an error shown as a page.
type Problem struct {
	Status        int
	Title         string
	Detail        string
	Code          string
	CorrelationID string
}

// Error renders an error page.
func (c *Console) Error(ctx *fiber.Ctx, who Caller, p Problem) error {
	return c.render(ctx, p.Status, "error", p.Title, "", who, p)
}

func (c *Console) home(ctx *fiber.Ctx, who Caller) error {
	return ctx.Redirect("/runs", http.StatusSeeOther)
}
