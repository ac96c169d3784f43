package ingress_test

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/dawsos/dawsos/ingress"
)

type tokens struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int    `json:"expires_in"`
	RefreshToken string `json:"refresh_token"`
	User         struct {
		ID    string `json:"id"`
		Email string `json:"email"`
		Role  string `json:"role"`
	} `json:"user"`
}

func (e *env) login(t *testing.T, email, password string) (*http.Response, []byte) {
	t.Helper()
	return e.do(t, "POST", "/v1/auth/login", `{"email":"`+email+`","password":"`+password+`"}`, anonymous)
}

func bearer(tok string) map[string]string { return map[string]string{"Authorization": "Bearer " + tok} }

// meAs is GET /v1/auth/me with a credential; it returns the status and
// the email it names.
func (e *env) meAs(t *testing.T, tok string) (int, string) {
	t.Helper()
	resp, body := e.do(t, "GET", "/v1/auth/me", "", bearer(tok))
	return resp.StatusCode, decodeLoose(body)["email"]
}

func decodeLoose(b []byte) map[string]string {
	out := map[string]string{}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err == nil {
		for k, v := range m {
			if s, ok := v.(string); ok {
				out[k] = s
			}
		}
	}
	return out
}

// TestLoginRefreshLogout follows a session: login answers both tokens;
// the refresh token rotates; using a rotated one again revokes the whole
// session (its newest tokens die too); logout ends a session at once.
func TestLoginRefreshLogout(t *testing.T) {
	t.Parallel()
	e := setup(t)
	u := e.users.owner
	resp, body := e.login(t, "  OWNER@test.example ", u.Password)
	tk := decode[tokens](t, body)
	if resp.StatusCode != http.StatusOK || tk.TokenType != "Bearer" || tk.ExpiresIn != 900 || tk.User.ID != u.ID.String() ||
		!strings.HasPrefix(tk.RefreshToken, "dwr_") || resp.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("login: %d %s (Cache-Control %q); want 200 with a bearer token for 900 s and a refresh token", resp.StatusCode, body, resp.Header.Get("Cache-Control"))
	}
	if st, email := e.meAs(t, tk.AccessToken); st != http.StatusOK || email != u.Email {
		t.Fatalf("GET /v1/auth/me with the access token: %d %q", st, email)
	}

	refresh := func(rt string) (*http.Response, tokens) {
		resp, body := e.do(t, "POST", "/v1/auth/refresh", `{"refresh_token":"`+rt+`"}`, anonymous)
		return resp, decode[tokens](t, body)
	}
	r1, next := refresh(tk.RefreshToken)
	if r1.StatusCode != http.StatusOK || next.RefreshToken == tk.RefreshToken || next.AccessToken == "" {
		t.Fatalf("refresh: %d, %+v; want new tokens", r1.StatusCode, next)
	}
	if st, _ := e.meAs(t, next.AccessToken); st != http.StatusOK {
		t.Fatalf("the refreshed access token: %d", st)
	}
	// The first refresh token again: a reuse. The session ends, and with
	// it the tokens the rotation gave.
	resp, body = e.do(t, "POST", "/v1/auth/refresh", `{"refresh_token":"`+tk.RefreshToken+`"}`, anonymous)
	checkProblem(t, "reused refresh token", resp, body, http.StatusUnauthorized, "unauthenticated")
	if st, _ := e.meAs(t, next.AccessToken); st != http.StatusUnauthorized {
		t.Errorf("access token of a session revoked for reuse: %d, want 401", st)
	}
	if r, _ := refresh(next.RefreshToken); r.StatusCode != http.StatusUnauthorized {
		t.Errorf("newest refresh token of a session revoked for reuse: %d, want 401", r.StatusCode)
	}

	// A second login, ended by logout.
	_, body = e.login(t, u.Email, u.Password)
	tk = decode[tokens](t, body)
	resp, body = e.do(t, "POST", "/v1/auth/logout", `{"refresh_token":"`+tk.RefreshToken+`"}`, bearer(tk.AccessToken))
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("logout: %d %s", resp.StatusCode, body)
	}
	if st, _ := e.meAs(t, tk.AccessToken); st != http.StatusUnauthorized {
		t.Errorf("access token after logout: %d, want 401", st)
	}
	if r, _ := refresh(tk.RefreshToken); r.StatusCode != http.StatusUnauthorized {
		t.Errorf("refresh token after logout: %d, want 401", r.StatusCode)
	}
	// Garbage is refused like any bad token.
	for _, rt := range []string{"", "dwr_nothing", "not-a-token", strings.Repeat("x", 2000)} {
		if r, _ := refresh(rt); r.StatusCode != http.StatusUnauthorized {
			t.Errorf("refresh with %.20q: %d, want 401", rt, r.StatusCode)
		}
	}
}

// TestLoginFailuresLookAlike: a wrong password and an unknown email get
// the same problem, and an inactive user's right password the same again.
func TestLoginFailuresLookAlike(t *testing.T) {
	t.Parallel()
	e := setup(t)
	u := e.users.owner
	_, wrongPW := e.login(t, u.Email, "not-the-password")
	_, unknown := e.login(t, "nobody@test.example", "not-the-password")
	if _, body := e.do(t, "PATCH", "/v1/users/"+u.ID.String(), `{"active":false}`, nil); !strings.Contains(string(body), `"active":false`) {
		t.Fatalf("deactivate: %s", body)
	}
	r, inactive := e.login(t, u.Email, u.Password)
	checkProblem(t, "inactive user", r, inactive, http.StatusUnauthorized, "unauthenticated")
	a, b, c := normalised(t, wrongPW, ""), normalised(t, unknown, ""), normalised(t, inactive, "")
	if a != b || b != c {
		t.Errorf("login failures differ:\nwrong password %s\nunknown email  %s\ninactive user  %s", a, b, c)
	}
	if st, _ := e.meAs(t, u.Token); st != http.StatusUnauthorized {
		t.Errorf("token of a deactivated user: %d, want 401", st)
	}
}

// TestLoginRateLimit: after the configured failures for one account the
// next login, right password or not, is 429 with Retry-After, for an
// unknown email exactly as for a known one; the address has a limit of
// its own across accounts.
func TestLoginRateLimit(t *testing.T) {
	t.Parallel()
	e := setup(t)
	srv := e.server(t, ingress.Config{Auth: ingress.AuthConfig{Signer: testSigner, LoginFailures: 3, LoginFailuresPerAddress: 8}}, nil)
	le := &env{srv: srv, users: e.users}
	for _, email := range []string{e.users.owner.Email, "nobody@test.example"} {
		for i := range 3 {
			if r, b := le.login(t, email, "wrong"); r.StatusCode != http.StatusUnauthorized {
				t.Fatalf("failure %d for %s: %d %s", i+1, email, r.StatusCode, b)
			}
		}
		r, b := le.login(t, email, e.users.owner.Password)
		checkProblem(t, "login past the account limit for "+email, r, b, http.StatusTooManyRequests, "rate_limited")
		if r.Header.Get("Retry-After") == "" {
			t.Errorf("429 for %s without Retry-After", email)
		}
	}
	// Six failures so far from this address; two more on fresh accounts
	// reach its limit of eight, and then a fresh account is refused too.
	le.login(t, "a@test.example", "wrong")
	le.login(t, "b@test.example", "wrong")
	r, b := le.login(t, e.users.manager.Email, e.users.manager.Password)
	checkProblem(t, "login past the address limit", r, b, http.StatusTooManyRequests, "rate_limited")
}

// TestCredentialsAreChecked: missing, malformed, wrongly signed, expired
// or unknown-user credentials are 401 and the route does nothing.
func TestCredentialsAreChecked(t *testing.T) {
	t.Parallel()
	e := setup(t)
	forged, _, _ := mustSigner("another-secret-that-is-also-32-bytes-long").Mint(e.users.admin.ID, "ADMIN", uuid.Nil, time.Hour)
	ghost := mint(t, uuid.New(), "ADMIN", time.Hour)
	expired := mint(t, e.users.admin.ID, "ADMIN", -time.Hour)
	for name, h := range map[string]string{
		"none": "", "basic": "Basic YWRtaW46YWRtaW4=", "bearer without token": "Bearer ", "garbage": "Bearer abc.def.ghi",
		"another key": "Bearer " + forged, "unknown user": "Bearer " + ghost, "expired": "Bearer " + expired,
		"unknown api key": "Bearer dwk_" + strings.Repeat("A", 43), "alg none": "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.",
	} {
		resp, body := e.do(t, "POST", "/v1/runs", `{"pattern":"test_chain","inputs":{"n":1}}`, map[string]string{"Authorization": h})
		p := checkProblem(t, "credential "+name, resp, body, http.StatusUnauthorized, "unauthenticated")
		if name == "expired" && !strings.Contains(p.Detail, "expired") {
			t.Errorf("expired token: detail %q, want it to say so", p.Detail)
		}
		if resp.Header.Get("WWW-Authenticate") == "" {
			t.Errorf("credential %s: 401 without WWW-Authenticate", name)
		}
	}
	if _, body := e.do(t, "GET", "/v1/runs", "", nil); strings.Contains(string(body), "run_id") {
		t.Errorf("a refused submission made a run: %s", body)
	}
}

// TestRoleChangesTakeEffect: a demoted user loses the role's routes at
// once, on the token they already hold.
func TestRoleChangesTakeEffect(t *testing.T) {
	t.Parallel()
	e := setup(t)
	m := asUser(e.users.manager)
	if resp, body := e.do(t, "POST", "/v1/breakers/test.add_one/reset", "", m); resp.StatusCode != http.StatusOK {
		t.Fatalf("reset as MANAGER: %d %s", resp.StatusCode, body)
	}
	if resp, body := e.do(t, "PATCH", "/v1/users/"+e.users.manager.ID.String(), `{"role":"viewer"}`, nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("demote: %d %s", resp.StatusCode, body)
	}
	resp, body := e.do(t, "POST", "/v1/breakers/test.add_one/reset", "", m)
	checkProblem(t, "reset after the demotion", resp, body, http.StatusForbidden, "forbidden")
	// The last active ADMIN cannot be demoted or deactivated.
	for _, patch := range []string{`{"role":"USER"}`, `{"active":false}`} {
		resp, body = e.do(t, "PATCH", "/v1/users/"+e.users.admin.ID.String(), patch, nil)
		checkProblem(t, "the last ADMIN "+patch, resp, body, http.StatusConflict, "conflict")
	}
}

// TestUserManagement: an ADMIN creates users who can log in; emails are
// unique; passwords are never answered; weak ones are refused.
func TestUserManagement(t *testing.T) {
	t.Parallel()
	e := setup(t)
	resp, body := e.do(t, "POST", "/v1/users", `{"email":"New@Test.example","password":"a-long-password-1","role":"manager"}`, nil)
	if resp.StatusCode != http.StatusCreated || !strings.Contains(string(body), `"email":"new@test.example"`) || !strings.Contains(string(body), `"role":"MANAGER"`) {
		t.Fatalf("create user: %d %s", resp.StatusCode, body)
	}
	if strings.Contains(string(body), "a-long-password-1") || strings.Contains(string(body), "$2a$") {
		t.Errorf("the answer shows the password or its hash: %s", body)
	}
	if r, b := e.login(t, "new@test.example", "a-long-password-1"); r.StatusCode != http.StatusOK {
		t.Errorf("log in as the new user: %d %s", r.StatusCode, b)
	}
	resp, body = e.do(t, "POST", "/v1/users", `{"email":"new@test.example","password":"another-password"}`, nil)
	checkProblem(t, "a taken email", resp, body, http.StatusConflict, "conflict")
	resp, body = e.do(t, "POST", "/v1/users", `{"email":"not-an-email","password":"short","role":"ROOT"}`, nil)
	if p := checkProblem(t, "bad user", resp, body, http.StatusUnprocessableEntity, "invalid_input"); len(p.Fields) != 3 {
		t.Errorf("bad user: fields %+v, want email, password and role", p.Fields)
	}
	resp, body = e.do(t, "GET", "/v1/users", "", nil)
	if resp.StatusCode != http.StatusOK || strings.Contains(string(body), "password") {
		t.Errorf("list users: %d %s", resp.StatusCode, body)
	}
	resp, body = e.do(t, "PATCH", "/v1/users/"+uuid.NewString(), `{"active":false}`, nil)
	checkProblem(t, "patch of no user", resp, body, http.StatusNotFound, "not_found")
}

// TestAPIKeys: a key is answered once and stored only as a hash; it acts
// as its owner with at most its own role; it cannot exceed its creator's
// role; revoked, it stops working.
func TestAPIKeys(t *testing.T) {
	t.Parallel()
	e := setup(t)
	owner := asUser(e.users.owner)
	resp, body := e.do(t, "POST", "/v1/auth/keys", `{"name":"ci","role":"viewer","expires_in":"24h"}`, owner)
	k := decode[struct {
		ID, Key, Role, Prefix string
	}](t, body)
	if resp.StatusCode != http.StatusCreated || !strings.HasPrefix(k.Key, "dwk_") || k.Role != "VIEWER" || !strings.HasPrefix(k.Key, k.Prefix) {
		t.Fatalf("create key: %d %s", resp.StatusCode, body)
	}
	var stored int
	hash := sha256.Sum256([]byte(k.Key))
	if err := e.db.QueryRow(context.Background(), `SELECT count(*) FROM api_keys WHERE key_hash = $1 AND position($2 in name || prefix) = 0`,
		[]any{hash[:], k.Key}, &stored); err != nil || stored != 1 {
		t.Fatalf("the key is not stored by its hash alone: %d rows, %v", stored, err)
	}
	_, list := e.do(t, "GET", "/v1/auth/keys", "", owner)
	if strings.Contains(string(list), k.Key) || !strings.Contains(string(list), k.ID) {
		t.Errorf("key list shows the secret or lacks the key: %s", list)
	}
	resp, body = e.do(t, "GET", "/v1/auth/me", "", bearer(k.Key))
	if me := decodeLoose(body); resp.StatusCode != http.StatusOK || me["via"] != "api_key" || me["role"] != "VIEWER" || me["email"] != e.users.owner.Email {
		t.Errorf("me with the key: %d %s", resp.StatusCode, body)
	}
	resp, body = e.do(t, "POST", "/v1/runs", `{"pattern":"test_chain","inputs":{"n":1}}`, bearer(k.Key))
	checkProblem(t, "a VIEWER key submitting", resp, body, http.StatusForbidden, "forbidden")
	resp, body = e.do(t, "POST", "/v1/auth/keys", `{"role":"ADMIN"}`, owner)
	checkProblem(t, "a key above its creator's role", resp, body, http.StatusForbidden, "forbidden")
	resp, body = e.do(t, "POST", "/v1/auth/keys", `{"role":"USER"}`, bearer(k.Key))
	checkProblem(t, "a key minting a stronger key", resp, body, http.StatusForbidden, "forbidden")
	resp, body = e.do(t, "DELETE", "/v1/auth/keys/"+k.ID, "", asUser(e.users.other))
	checkProblem(t, "revoking another user's key", resp, body, http.StatusNotFound, "not_found")
	if resp, _ := e.do(t, "DELETE", "/v1/auth/keys/"+k.ID, "", owner); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("revoke: %d", resp.StatusCode)
	}
	if st, _ := e.meAs(t, k.Key); st != http.StatusUnauthorized {
		t.Errorf("revoked key: %d, want 401", st)
	}
}
