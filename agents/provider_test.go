package agents_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dawsos/dawsos/agents"
)

// testKey is the key every test provider carries; no error or log line may
// show it.
const testKey = "sekret-KEY-4242"

// logBuffer collects what a client logs, at debug level.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// testServer is a local provider that counts its requests.
type testServer struct {
	*httptest.Server
	hits atomic.Int64
}

func newTestServer(t *testing.T, h http.HandlerFunc) *testServer {
	t.Helper()
	s := &testServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		h(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *testServer) hostPort() string { return strings.TrimPrefix(s.URL, "http://") }

// providerFor is a provider that may reach exactly s (its loopback
// endpoint), with fast back-off.
func providerFor(s *testServer) agents.Provider {
	return agents.Provider{
		Name: agents.ProviderFMP, BaseURL: s.URL, Key: testKey, RatePerMinute: 60000, Timeout: 2 * time.Second,
		AllowedHosts: []string{"127.0.0.1"}, AllowLoopback: []string{s.hostPort()}, MaxAttempts: 3,
		Backoff: 10 * time.Millisecond,
	}
}

func newClient(p agents.Provider) (*agents.ProviderClient, *logBuffer) {
	lb := &logBuffer{}
	log := slog.New(slog.NewTextHandler(lb, &slog.HandlerOptions{Level: slog.LevelDebug}))
	return agents.NewProviderClient(p, log, nil), lb
}

// keyReq carries the key in the query, so every URL the client builds
// holds it and redaction is exercised.
func keyReq(path string) agents.ProviderRequest {
	return agents.ProviderRequest{Path: path, Query: url.Values{"symbol": {"AAPL"}}, KeyParam: "apikey"}
}

func wantCode(t *testing.T, err error, code string, retryable bool, contains ...string) *agents.Error {
	t.Helper()
	var ae *agents.Error
	if !errors.As(err, &ae) {
		t.Fatalf("error %v (%T); want an *agents.Error with code %s", err, err, code)
	}
	if ae.Code != code || ae.Retryable != retryable {
		t.Fatalf("error %q: code %s retryable %v; want %s retryable %v", ae.Message, ae.Code, ae.Retryable, code, retryable)
	}
	for _, c := range contains {
		if !strings.Contains(ae.Message, c) {
			t.Errorf("error %q does not mention %q", ae.Message, c)
		}
	}
	if strings.Contains(err.Error(), testKey) {
		t.Errorf("error %q shows the key", err)
	}
	return ae
}

func noKeyIn(t *testing.T, lb *logBuffer) {
	t.Helper()
	if s := lb.String(); strings.Contains(s, testKey) {
		t.Errorf("the log shows the key:\n%s", s)
	}
}

func TestProviderNotConfigured(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(`[]`)) })
	p := providerFor(s)
	p.Key = ""
	c, _ := newClient(p)
	_, err := c.Do(context.Background(), keyReq("/stable/quote"))
	wantCode(t, err, agents.CodeProviderNotConfigured, false, "fmp", "DAWSOS_PROVIDERS_FMP_KEY")
	if s.hits.Load() != 0 {
		t.Errorf("a provider without a key was called %d times", s.hits.Load())
	}
	if info := agents.Info(agents.CodeProviderNotConfigured); info.Retryable || info.Counted || info.Status != http.StatusServiceUnavailable {
		t.Errorf("provider_not_configured row %+v; want 503, final, not counted", info)
	}
}

func TestProviderRetryAfter(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		status int
		header func() string
		min    time.Duration
	}{
		{"429 seconds", http.StatusTooManyRequests, func() string { return "1" }, 900 * time.Millisecond},
		// An HTTP-date has whole seconds: two seconds ahead is at least one
		// second's wait after truncation.
		{"503 HTTP-date", http.StatusServiceUnavailable, func() string { return time.Now().Add(2 * time.Second).UTC().Format(http.TimeFormat) }, 900 * time.Millisecond},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var first atomic.Bool
			s := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
				if !first.Swap(true) {
					w.Header().Set("Retry-After", tc.header())
					w.WriteHeader(tc.status)
					return
				}
				w.Write([]byte(`[{"symbol":"AAPL","price":1}]`))
			})
			c, lb := newClient(providerFor(s))
			start := time.Now()
			resp, err := c.Do(context.Background(), keyReq("/stable/quote"))
			if err != nil {
				t.Fatal(err)
			}
			if el := time.Since(start); el < tc.min || resp.Attempts != 2 {
				t.Errorf("answered after %s in %d attempts; want the Retry-After (≥ %s) honoured, 2 attempts", el, resp.Attempts, tc.min)
			}
			noKeyIn(t, lb)
		})
	}
	t.Run("longer than the client waits", func(t *testing.T) {
		t.Parallel()
		s := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", "3600")
			w.WriteHeader(http.StatusTooManyRequests)
		})
		c, _ := newClient(providerFor(s))
		start := time.Now()
		_, err := c.Do(context.Background(), keyReq("/stable/quote"))
		wantCode(t, err, agents.CodeUnavailable, true, "429", "retry after 1h0m0s")
		if time.Since(start) > time.Second || s.hits.Load() != 1 {
			t.Errorf("waited %s over %d calls; want an immediate unavailable", time.Since(start), s.hits.Load())
		}
	})
}

func TestProvider5xxBurst(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, `{"Error Message":"upstream down"}`, http.StatusBadGateway)
	})
	c, lb := newClient(providerFor(s))
	_, err := c.Do(context.Background(), keyReq("/stable/quote"))
	wantCode(t, err, agents.CodeUnavailable, true, "502", "after 3 attempts")
	if s.hits.Load() != 3 {
		t.Errorf("%d calls; want 3 (MaxAttempts)", s.hits.Load())
	}
	if !agents.Info(agents.CodeUnavailable).Counted {
		t.Error("unavailable must count towards the breaker, so a burst opens it")
	}
	noKeyIn(t, lb)
}

func TestProviderBodies(t *testing.T) {
	t.Parallel()
	type quote struct {
		Symbol string  `json:"symbol"`
		Price  float64 `json:"price"`
	}
	cases := []struct {
		name  string
		body  string
		want  string
		check func(t *testing.T, q []quote)
	}{
		{"documented", `[{"symbol":"AAPL","price":189.5,"exchange":"NASDAQ"}]`, "", func(t *testing.T, q []quote) {
			if len(q) != 1 || q[0].Price != 189.5 {
				t.Errorf("decoded %+v", q)
			}
		}},
		{"not JSON", `<html>maintenance</html>`, "syntax error", nil},
		{"cut short", `[{"symbol":"AAPL","pri`, "cut short", nil},
		{"wrong type", `[{"symbol":"AAPL","price":"189.5"}]`, "price is a JSON string", nil},
		{"trailing value", `[] []`, "more than one JSON value", nil},
		{"empty", ``, "empty", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newTestServer(t, func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(tc.body)) })
			c, _ := newClient(providerFor(s))
			var q []quote
			_, err := c.GetJSON(context.Background(), keyReq("/stable/quote"), &q)
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				tc.check(t, q)
				return
			}
			wantCode(t, err, agents.CodeUnavailable, true, tc.want)
			if s.hits.Load() != 1 {
				t.Errorf("a malformed body was fetched %d times; the client retries only what may change", s.hits.Load())
			}
		})
	}
	t.Run("oversized", func(t *testing.T) {
		t.Parallel()
		s := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte("[" + strings.Repeat(`{"symbol":"AAPL"},`, 1000) + `{}]`))
		})
		p := providerFor(s)
		p.MaxBodyBytes = 4096
		c, _ := newClient(p)
		_, err := c.Do(context.Background(), keyReq("/stable/quote"))
		wantCode(t, err, agents.CodeUnavailable, true, "larger than the limit of 4096 bytes")
	})
}

func TestProviderSlow(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	cases := []struct {
		name string
		h    http.HandlerFunc
		want string
	}{
		{"slow body", func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte(`[{"symbol":`))
			w.(http.Flusher).Flush()
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}, "the body did not arrive within the timeout"},
		{"slow headers", func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}, "within the timeout"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newTestServer(t, tc.h)
			p := providerFor(s)
			p.Timeout, p.MaxAttempts = 150*time.Millisecond, 2
			c, lb := newClient(p)
			start := time.Now()
			_, err := c.Do(context.Background(), keyReq("/stable/quote"))
			wantCode(t, err, agents.CodeUnavailable, true, tc.want, "after 2 attempts")
			if el := time.Since(start); el > 3*time.Second {
				t.Errorf("took %s; each attempt is bounded by the 150 ms timeout", el)
			}
			noKeyIn(t, lb)
		})
	}
	t.Run("step deadline", func(t *testing.T) {
		t.Parallel()
		s := newTestServer(t, cases[1].h)
		c, _ := newClient(providerFor(s))
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		_, err := c.Do(ctx, keyReq("/stable/quote"))
		if got := agents.Classify(err); got.Code != agents.CodeTimeout {
			t.Errorf("the step's own deadline: %v (%s); want timeout", err, got.Code)
		}
	})
}

func TestProviderRedirects(t *testing.T) {
	t.Parallel()
	// other is a second local server: a redirect to it must never reach it.
	other := newTestServer(t, func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(`[]`)) })
	_, port, _ := strings.Cut(other.hostPort(), ":")
	cases := []struct {
		name, target string
		hosts        []string
		want         string
	}{
		{"host off the list", "https://evil.example/steal", nil, "host evil.example is not among the provider's allowed hosts"},
		{"loopback after resolution", "https://127.0.0.1:" + port + "/", nil, "127.0.0.1:" + port + " refused: loopback address"},
		{"localhost resolves to loopback", "https://localhost:" + port + "/", []string{"localhost"}, "refused: loopback address"},
		{"plain http to loopback", "http://127.0.0.1:" + port + "/", nil, "plain http is refused"},
		{"cloud metadata", "https://169.254.169.254/latest/meta-data/", []string{"169.254.169.254"}, "169.254.169.254:443 refused: link-local"},
		{"metadata over http", "http://169.254.169.254/latest/meta-data/", []string{"169.254.169.254"}, "plain http is refused"},
		{"user info", "https://user:pw@127.0.0.1/", nil, "user info"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, tc.target, http.StatusFound)
			})
			p := providerFor(s)
			p.AllowedHosts = append(p.AllowedHosts, tc.hosts...)
			c, lb := newClient(p)
			_, err := c.Do(context.Background(), keyReq("/stable/quote"))
			wantCode(t, err, agents.CodeProviderNotConfigured, false, tc.want)
			if s.hits.Load() != 1 {
				t.Errorf("the redirecting server was called %d times; a refusal is final", s.hits.Load())
			}
			noKeyIn(t, lb)
		})
	}
	if n := other.hits.Load(); n != 0 {
		t.Errorf("a refused redirect reached the other server %d times", n)
	}
	t.Run("allowed redirect", func(t *testing.T) {
		t.Parallel()
		var target *testServer
		target = newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Query().Get("apikey") != testKey {
				t.Errorf("the key did not come along to an allowed host")
			}
			w.Write([]byte(`[]`))
		})
		s := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, target.URL+"/v2?"+r.URL.RawQuery, http.StatusMovedPermanently)
		})
		p := providerFor(s)
		p.AllowLoopback = append(p.AllowLoopback, target.hostPort())
		c, _ := newClient(p)
		if _, err := c.Do(context.Background(), keyReq("/stable/quote")); err != nil {
			t.Fatal(err)
		}
	})
}

func TestProviderStatusesAndRedaction(t *testing.T) {
	t.Parallel()
	cases := []struct {
		status int
		code   string
		want   string
	}{
		{http.StatusUnauthorized, agents.CodeProviderNotConfigured, "the key was rejected; check DAWSOS_PROVIDERS_FMP_KEY"},
		{http.StatusForbidden, agents.CodeProviderNotConfigured, "403"},
		{http.StatusNotFound, agents.CodeNotFound, "404"},
		{http.StatusBadRequest, agents.CodeInvalidInput, "400"},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprint(tc.status), func(t *testing.T) {
			t.Parallel()
			// The provider echoes the key in its error body, as some do.
			s := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tc.status)
				fmt.Fprintf(w, `{"Error Message":"Invalid API KEY %s for %s"}`, r.URL.Query().Get("apikey"), r.URL.String())
			})
			c, lb := newClient(providerFor(s))
			_, err := c.Do(context.Background(), keyReq("/stable/quote"))
			ae := wantCode(t, err, tc.code, false, tc.want, "[REDACTED]")
			if s.hits.Load() != 1 {
				t.Errorf("a final status was fetched %d times", s.hits.Load())
			}
			if strings.Contains(fmt.Sprintf("%+v %#v", ae, ae), testKey) {
				t.Error("the formatted error shows the key")
			}
			noKeyIn(t, lb)
		})
	}
	p := agents.Provider{Name: "fmp", BaseURL: "https://financialmodelingprep.com", Key: testKey}
	for _, s := range []string{p.String(), fmt.Sprintf("%v %+v %#v %s", p, p, p, p)} {
		if strings.Contains(s, testKey) {
			t.Errorf("formatting a provider shows the key: %s", s)
		}
	}
	var lb logBuffer
	slog.New(slog.NewJSONHandler(&lb, nil)).Info("configured", "provider", p)
	noKeyIn(t, &lb)
}

func TestProviderRateLimit(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(`[]`)) })
	p := providerFor(s)
	p.RatePerMinute = 600 // one token every 100 ms, burst 1
	c, _ := newClient(p)
	start := time.Now()
	for range 4 {
		if _, err := c.Do(context.Background(), keyReq("/stable/quote")); err != nil {
			t.Fatal(err)
		}
	}
	if el := time.Since(start); el < 280*time.Millisecond {
		t.Errorf("4 calls at 600 a minute took %s; want at least 3 intervals of 100 ms", el)
	}
	// A wait that cannot end before the deadline fails at once.
	p.RatePerMinute = 1
	slow, _ := newClient(p)
	if _, err := slow.Do(context.Background(), keyReq("/x")); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err := slow.Do(ctx, keyReq("/x"))
	wantCode(t, err, agents.CodeUnavailable, true, "rate limit (1 a minute)")
}

func TestCheckProvider(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		p    agents.Provider
		want string
	}{
		{"ok", agents.Provider{Name: "fred", BaseURL: "https://api.stlouisfed.org", AllowedHosts: []string{"api.stlouisfed.org"}}, ""},
		{"host off the list", agents.Provider{Name: "fred", BaseURL: "https://api.stlouisfed.org", AllowedHosts: []string{"example.org"}}, "providers.fred.allowed_hosts"},
		{"plain http", agents.Provider{Name: "fred", BaseURL: "http://api.stlouisfed.org", AllowedHosts: []string{"api.stlouisfed.org"}}, "plain http"},
		{"bad loopback entry", agents.Provider{Name: "fred", BaseURL: "https://api.stlouisfed.org", AllowedHosts: []string{"api.stlouisfed.org"}, AllowLoopback: []string{"10.0.0.1:80"}}, "allow_loopback"},
		{"empty", agents.Provider{Name: "fred"}, "base URL is empty"},
	}
	for _, tc := range cases {
		err := agents.CheckProvider(tc.p)
		if (tc.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%s: CheckProvider = %v; want %q", tc.name, err, tc.want)
		}
	}
	// A configured provider whose base URL is refused fails every call
	// with provider_not_configured saying why.
	c := agents.NewProviderClient(agents.Provider{Name: "fred", BaseURL: "https://api.stlouisfed.org", Key: testKey}, nil, nil)
	wantCode(t, c.Ready(), agents.CodeProviderNotConfigured, false, "allowed hosts")
	// A base URL on a private address passes the host list but not the
	// address check, at connection time.
	priv := agents.NewProviderClient(agents.Provider{Name: "fred", BaseURL: "https://10.1.2.3", AllowedHosts: []string{"10.1.2.3"}, Key: testKey, MaxAttempts: 1}, nil, nil)
	_, err := priv.Do(context.Background(), keyReq("/fred/series/observations"))
	wantCode(t, err, agents.CodeProviderNotConfigured, false, "10.1.2.3:443 refused: private address")
}

func TestForbiddenAddresses(t *testing.T) {
	t.Parallel()
	// Each address is refused before any connection is attempted: the
	// check runs on the resolved address, so none of these is contacted.
	for _, a := range []string{"127.0.0.1", "10.0.0.8", "172.16.4.4", "192.168.1.1", "169.254.169.254", "100.100.100.200",
		"0.0.0.0", "255.255.255.255", "::1", "fe80::1", "fd00:ec2::254", "::ffff:127.0.0.1", "64:ff9b::a9fe:a9fe", "2002:a00:1::1", "224.0.0.1"} {
		host := a
		if netip.MustParseAddr(a).Is6() {
			host = "[" + a + "]"
		}
		c := agents.NewProviderClient(agents.Provider{Name: "fmp", BaseURL: "https://" + host, AllowedHosts: []string{a}, Key: testKey, MaxAttempts: 1, Timeout: time.Second}, nil, nil)
		_, err := c.Do(context.Background(), agents.ProviderRequest{Path: "/", KeyHeader: "apikey"})
		wantCode(t, err, agents.CodeProviderNotConfigured, false, "refused")
	}
}
