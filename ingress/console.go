package ingress

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/console"
)

// The web console (package console) is served by this server, so that
// its pages and actions pass the same guard as the API: every console
// route has a rule in routeAccess, and its actions are either API calls
// made from the page with the session cookie or console routes with a
// rule of their own.
//
// A browser session is the access token of a login in an http-only,
// SameSite=Strict cookie. The guard accepts the cookie when a request has
// no Authorization header; a request that changes something must then
// also carry the session's CSRF token (double submit: the X-CSRF-Token
// header or a csrf form field equal to the CSRF cookie) and must not come
// from another origin.
const (
	cookieAccess = "dawsos_session"
	cookieCSRF   = "dawsos_csrf"
	headerCSRF   = "X-CSRF-Token"
	formCSRF     = "csrf"
)

// registerConsoleRoutes adds the console's pages, assets and form posts.
func (s *Server) registerConsoleRoutes(r guardedRouter) {
	if s.console == nil {
		return
	}
	for _, a := range console.Assets() {
		r.Get(a.Path, s.console.Asset(a))
	}
	r.Get("/login", s.loginPage)
	r.Post("/login", s.consoleLogin)
	r.Post("/logout", s.consoleLogout)
	for _, p := range s.console.Pages() {
		if p.Method == fiber.MethodPost {
			r.Post(p.Path, s.asCaller(p.Handler))
			continue
		}
		r.Get(p.Path, s.asCaller(p.Handler))
	}
}

// asCaller hands a console handler who is calling, as the guard found it.
func (s *Server) asCaller(h console.Handler) fiber.Handler {
	return func(c *fiber.Ctx) error {
		p := principalOf(c)
		who := console.Caller{CSRF: c.Cookies(cookieCSRF)}
		if p != nil {
			who.UserID, who.Email, who.Role = p.UserID.String(), p.Email, p.Role.String()
			who.Level = int(p.Role)
		}
		return h(c, who)
	}
}

// credentialOf is the request's credential as an Authorization header
// value: the header itself, or else the session cookie. With the cookie,
// a request that is not a read must pass the CSRF checks.
func credentialOf(c *fiber.Ctx) (string, error) {
	if h := c.Get(fiber.HeaderAuthorization); h != "" {
		return h, nil
	}
	tok := c.Cookies(cookieAccess)
	if tok == "" {
		return "", nil
	}
	if !safeMethod(c.Method()) {
		if err := checkCSRF(c); err != nil {
			return "", err
		}
	}
	return "Bearer " + tok, nil
}

func safeMethod(m string) bool {
	return m == fiber.MethodGet || m == fiber.MethodHead || m == fiber.MethodOptions
}

// errCSRF refuses a cookie-authenticated write without the session's
// CSRF token, or one sent from another site.
var errCSRF = &agents.Error{Code: agents.CodeForbidden,
	Message: "a request with the session cookie that changes something needs the X-CSRF-Token header (the console sends it) and must come from this origin"}

// checkCSRF compares the submitted token with the CSRF cookie and refuses
// requests that a browser marks as coming from another site.
func checkCSRF(c *fiber.Ctx) error {
	if site := c.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" && site != "none" {
		return errCSRF
	}
	if o := c.Get(fiber.HeaderOrigin); o != "" && o != "null" {
		u, err := url.Parse(o)
		if err != nil || u.Host != string(c.Request().Host()) {
			return errCSRF
		}
	}
	want := c.Cookies(cookieCSRF)
	got := c.Get(headerCSRF)
	if got == "" && strings.HasPrefix(c.Get(fiber.HeaderContentType), fiber.MIMEApplicationForm) {
		got = c.FormValue(formCSRF)
	}
	if want == "" || got == "" || subtle.ConstantTimeCompare([]byte(want), []byte(got)) != 1 {
		return errCSRF
	}
	return nil
}

// randomToken is 256 random bits, URL-safe.
func randomToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// setCookie sets an http-only, SameSite=Strict cookie for the whole site;
// maxAge < 0 deletes it.
func setCookie(c *fiber.Ctx, name, value string, maxAge time.Duration) {
	ck := &fiber.Cookie{Name: name, Value: value, Path: "/", HTTPOnly: true, SameSite: fiber.CookieSameSiteStrictMode, Secure: c.Secure()}
	if maxAge < 0 {
		ck.MaxAge, ck.Expires = -1, time.Unix(1, 0)
	} else {
		ck.MaxAge = int(maxAge / time.Second)
	}
	c.Cookie(ck)
}

// loginCSRF returns the CSRF cookie's token, drawing one when there is
// none, so the login form can be protected before any session exists.
func loginCSRF(c *fiber.Ctx) (string, error) {
	if t := c.Cookies(cookieCSRF); t != "" {
		return t, nil
	}
	t, err := randomToken()
	if err != nil {
		return "", err
	}
	setCookie(c, cookieCSRF, t, 12*time.Hour)
	return t, nil
}

// safeNext keeps a post-login destination on this site.
func safeNext(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") {
		return "/"
	}
	return next
}

// loginPage is GET /login.
func (s *Server) loginPage(c *fiber.Ctx) error {
	tok, err := loginCSRF(c)
	if err != nil {
		return err
	}
	return s.console.Login(c, console.LoginForm{CSRF: tok, Next: safeNext(c.Query("next"))}, http.StatusOK)
}

// consoleLogin is POST /login (a form): the API's password check and
// session, with the access token put in the session cookie instead of the
// answer. A failed login shows the form again with the API's message.
func (s *Server) consoleLogin(c *fiber.Ctx) error {
	form := console.LoginForm{Email: c.FormValue("email"), Next: safeNext(c.FormValue("next"))}
	// A browser gets the form again; any other client the problem.
	page := wantsPage(c)
	want := c.Cookies(cookieCSRF)
	got := c.FormValue(formCSRF)
	if want == "" || got == "" || subtle.ConstantTimeCompare([]byte(want), []byte(got)) != 1 {
		if !page {
			return &agents.Error{Code: agents.CodeInvalidInput, Field: formCSRF,
				Message: "the login form's csrf field must equal the dawsos_csrf cookie that GET /login sets; programs log in at POST /v1/auth/login"}
		}
		// Not 403: the login route is public and refuses everyone alike.
		tok, err := loginCSRF(c)
		if err != nil {
			return err
		}
		form.CSRF, form.Error = tok, "The form expired; please try again."
		return s.console.Login(c, form, http.StatusBadRequest)
	}
	u, err := s.checkLogin(c, c.FormValue("email"), c.FormValue("password"))
	if err == nil {
		var session uuid.UUID
		session, _, _, err = s.openSession(c, u)
		if err == nil {
			access, _, merr := s.cfg.Auth.Signer.Mint(u.ID, u.Role, session, s.cfg.Auth.AccessTTL)
			if merr != nil {
				return merr
			}
			// A fresh CSRF token per session: one planted before the
			// login is worth nothing after it.
			csrf, terr := randomToken()
			if terr != nil {
				return terr
			}
			setCookie(c, cookieAccess, access, s.cfg.Auth.AccessTTL)
			setCookie(c, cookieCSRF, csrf, s.cfg.Auth.AccessTTL)
			c.Set(fiber.HeaderCacheControl, "no-store")
			return c.Redirect(form.Next, http.StatusSeeOther)
		}
	}
	p, _ := problemOf(err)
	if p.Status >= 500 || !page {
		return err
	}
	form.CSRF, form.Error = got, p.Detail
	return s.console.Login(c, form, p.Status)
}

// consoleLogout is POST /logout (a form): it ends the session as the
// API's logout does and clears the cookies.
func (s *Server) consoleLogout(c *fiber.Ctx) error {
	if err := s.endSessions(c, principalOf(c), "", false); err != nil {
		return err
	}
	setCookie(c, cookieAccess, "", -1)
	setCookie(c, cookieCSRF, "", -1)
	return c.Redirect("/login", http.StatusSeeOther)
}

// consolePath reports whether a path belongs to the console (every path
// but the API's and the probes').
func consolePath(p string) bool {
	for _, pre := range []string{"/v1/", "/healthz", "/readyz", "/metrics"} {
		if strings.HasPrefix(p, pre) {
			return false
		}
	}
	return true
}

// consoleError shows a browser an error of a console page as a page: a
// missing or ended session sends it to the login form, any other problem
// is a page with the problem's status. It reports whether it answered.
func (s *Server) consoleError(c *fiber.Ctx, p Problem) bool {
	if s.console == nil || !consolePath(c.Path()) || !wantsPage(c) {
		return false
	}
	if p.Status == http.StatusUnauthorized && c.Method() == fiber.MethodGet {
		if c.Cookies(cookieAccess) != "" {
			setCookie(c, cookieAccess, "", -1)
		}
		_ = c.Redirect("/login?next="+url.QueryEscape(c.OriginalURL()), http.StatusSeeOther)
		return true
	}
	who := console.Caller{CSRF: c.Cookies(cookieCSRF)}
	if pr := principalOf(c); pr != nil {
		who.UserID, who.Email, who.Role, who.Level = pr.UserID.String(), pr.Email, pr.Role.String(), int(pr.Role)
	}
	return s.console.Error(c, who, console.Problem{Status: p.Status, Title: p.Title, Detail: p.Detail, Code: p.Code, CorrelationID: p.CorrelationID}) == nil
}

// wantsPage reports whether the client is a browser asking for a page
// (it accepts HTML); others get problem+json.
func wantsPage(c *fiber.Ctx) bool {
	return strings.Contains(c.Get(fiber.HeaderAccept), "text/html")
}
