package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestSignerNeedsASecretOutsideTheDemo: serve refuses to start without a
// JWT secret or key file, unless --demo, which draws one for the process;
// a configured secret signs tokens another process with it accepts.
func TestSignerNeedsASecretOutsideTheDemo(t *testing.T) {
	t.Parallel()
	var logged bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logged, nil))
	if _, err := (AuthConfig{}).signer(false, log); err == nil || !strings.Contains(err.Error(), envJWTSecret) {
		t.Errorf("signer without a secret outside the demo: %v; want an error naming %s", err, envJWTSecret)
	}
	s, err := (AuthConfig{}).signer(true, log)
	if err != nil || s == nil {
		t.Fatalf("signer for the demo: %v", err)
	}
	if !strings.Contains(logged.String(), "end with it") {
		t.Errorf("the demo's drawn secret is not logged as such: %s", logged.String())
	}
	if _, err := (AuthConfig{secret: "short"}).signer(false, log); err == nil {
		t.Error("a short secret was accepted")
	}
}

// TestDemoLoginsArePrintedNotLogged: the demo users' generated passwords
// go to the terminal with how to log in, never to the log.
func TestDemoLoginsArePrintedNotLogged(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	pw := map[string]string{"ADMIN": "pw-admin-xyz", "MANAGER": "pw-manager-xyz", "VIEWER": "pw-viewer-xyz"}
	printDemoLogins(&out, "http://127.0.0.1:8080", pw)
	for _, want := range []string{"admin@dawsos.example", "manager@dawsos.example", "viewer@dawsos.example",
		"pw-admin-xyz", "pw-manager-xyz", "pw-viewer-xyz", "dawsos login", "/v1/auth/login"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("demo logins do not mention %q:\n%s", want, out.String())
		}
	}
	out.Reset()
	printDemoLogins(&out, "http://127.0.0.1:8080", nil)
	if !strings.Contains(out.String(), "dawsos seed --manager-password") {
		t.Errorf("demo logins without new passwords do not say how to set one:\n%s", out.String())
	}
}

// TestClientSendsTheStoredLogin: `dawsos login` stores the tokens (0600),
// the next command sends the access token, and one about to expire is
// refreshed first and stored again; $DAWSOS_TOKEN overrides it.
func TestClientSendsTheStoredLogin(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	expires := time.Now().Add(30 * time.Second) // inside the refresh margin
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.URL.Path+" "+r.Header.Get("Authorization"))
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/v1/auth/login", "/v1/auth/refresh":
			b, _ := io.ReadAll(r.Body)
			tok := "access-1"
			if r.URL.Path == "/v1/auth/refresh" {
				tok = "access-2"
				if !strings.Contains(string(b), "refresh-1") {
					w.WriteHeader(http.StatusUnauthorized)
					return
				}
			}
			_ = json.NewEncoder(w).Encode(map[string]any{"access_token": tok, "expires_at": expires, "refresh_token": "refresh-1",
				"refresh_expires_at": time.Now().Add(time.Hour), "user": map[string]string{"email": "a@b.c", "role": "USER"}})
		default:
			_, _ = io.WriteString(w, `{"dead_letters":[]}`)
		}
	}))
	defer srv.Close()
	creds := filepath.Join(t.TempDir(), "c", "credentials.json")
	t.Setenv(envCredentialsFile, creds)
	t.Setenv(envToken, "")
	root := newRootCmd()
	root.SetArgs([]string{"login", "--server", srv.URL, "--email", "a@b.c", "--password-stdin"})
	root.SetIn(strings.NewReader("secret\n"))
	root.SetOut(io.Discard)
	root.SetErr(io.Discard)
	if err := root.ExecuteContext(context.Background()); err != nil {
		t.Fatalf("dawsos login: %v", err)
	}
	if st, err := os.Stat(creds); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("stored login: %v %v; want a 0600 file", err, st)
	}
	run := func() {
		root := newRootCmd()
		root.SetArgs([]string{"dlq", "list", "--server", srv.URL})
		root.SetOut(io.Discard)
		if err := root.ExecuteContext(context.Background()); err != nil {
			t.Fatalf("dawsos dlq list: %v", err)
		}
	}
	run()
	t.Setenv(envToken, "from-the-environment")
	run()
	mu.Lock()
	defer mu.Unlock()
	want := []string{"/v1/auth/login ", "/v1/auth/refresh ", "/v1/dlq Bearer access-2", "/v1/dlq Bearer from-the-environment"}
	if strings.Join(seen, "|") != strings.Join(want, "|") {
		t.Errorf("requests %q; want %q", seen, want)
	}
}

// TestBenchSendsTheCredential: every submission of the load carries it.
func TestBenchSendsTheCredential(t *testing.T) {
	t.Parallel()
	got := make(chan string, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case got <- r.Header.Get("Authorization"):
		default:
		}
		_, _ = io.WriteString(w, `{"status":"succeeded"}`)
	}))
	defer srv.Close()
	hc := withBearer(benchHTTPClient(2, 5*time.Second), "dwk_key")
	defer hc.CloseIdleConnections()
	_, err := runBench(context.Background(), benchConfig{Server: srv.URL, Pattern: "p", Rate: 20, Duration: 100 * time.Millisecond,
		ConcurrencyLimit: 2, WaitTimeout: time.Second}, hc, nil)
	if err != nil {
		t.Fatal(err)
	}
	if h := <-got; h != "Bearer dwk_key" {
		t.Errorf("Authorization %q, want Bearer dwk_key", h)
	}
}
