package agents

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/time/rate"
)

// The guarded HTTP client every agent that talks to an outside provider
// uses (the data harvester: FMP, Polygon, FRED, NewsAPI; the claude agent:
// Anthropic). It lives here because agent subpackages never import each
// other.
//
// What it guarantees, per call:
//   - no key: provider_not_configured naming the provider and the variable
//     to set, before any traffic;
//   - a token bucket per client (RatePerMinute, burst 1), waited on before
//     every attempt, so retries count against the provider's limit too;
//   - a deadline per attempt (Timeout) that covers the whole body;
//   - only the hosts of AllowedHosts, over https (plain http only to an
//     AllowLoopback endpoint), on the first request and on every redirect;
//     a redirect elsewhere is an error, never followed;
//   - after DNS resolution, on every connection (redirects included), no
//     loopback, private, link-local (so no cloud metadata endpoint),
//     shared, multicast, unspecified or reserved address, unless the exact
//     ip:port is listed in AllowLoopback (test configurations); no proxy
//     from the environment, so the check sees the real peer;
//   - a body of at most MaxBodyBytes after decompression;
//   - retries of 429, 5xx and transport failures with back-off, honouring
//     Retry-After in seconds or as an HTTP-date;
//   - the key redacted from every error and never logged.
//
// Errors are *Error with these codes:
//
//	provider_not_configured  final, not counted: no key; the key rejected
//	                         (401, 403); the endpoint refused (a host off
//	                         the allow-list, a forbidden address, plain
//	                         http, too many redirects): each is fixed in
//	                         the configuration, never by trying again.
//	unavailable              retryable, counted (so a burst opens the
//	                         capability's breaker): 5xx and 429 after the
//	                         client's own retries, a Retry-After longer than
//	                         the client may wait, an attempt past its
//	                         timeout (slow headers or a slow body),
//	                         transport failures, a body over the limit, a
//	                         body that is not the documented JSON.
//	not_found                final: 404, the provider has no such entity.
//	invalid_input            final: another 4xx; the provider refused the
//	                         arguments, and the same ones fail again.
//	timeout, canceled        the step's own context ended (Classify).

// Provider names: the keys of Deps.Providers and of the providers section
// of the configuration.
const (
	ProviderFMP       = "fmp"
	ProviderPolygon   = "polygon"
	ProviderFRED      = "fred"
	ProviderNewsAPI   = "newsapi"
	ProviderAnthropic = "anthropic"
)

// ProviderNames lists the providers DawsOS knows, in a stable order.
var ProviderNames = []string{ProviderFMP, ProviderPolygon, ProviderFRED, ProviderNewsAPI, ProviderAnthropic}

// ProviderKeyEnv is the environment variable that holds a provider's key:
// DAWSOS_PROVIDERS_FMP_KEY for fmp. Keys come from it or from the file
// named by providers.<name>.key_file, never from the configuration file.
func ProviderKeyEnv(name string) string {
	return "DAWSOS_PROVIDERS_" + strings.ToUpper(name) + "_KEY"
}

// Client defaults, used where a Provider leaves a field zero.
const (
	DefaultProviderTimeout      = 10 * time.Second
	DefaultProviderRate         = 60
	DefaultProviderAttempts     = 3
	DefaultProviderMaxBodyBytes = 8 << 20
	DefaultProviderBackoff      = 250 * time.Millisecond
	// DefaultProviderMaxRetryWait is the longest Retry-After the client
	// sleeps for; a longer one ends the call with unavailable, and the
	// engine's step retry takes over.
	DefaultProviderMaxRetryWait = 30 * time.Second
	// maxProviderRedirects bounds the redirects of one attempt.
	maxProviderRedirects = 5
	// errorExcerpt bounds the part of a provider's error body quoted in an
	// error message.
	errorExcerpt = 200
)

// Provider is one configured outside provider. Key is a secret: String and
// LogValue leave it out, and the client redacts it from every error.
type Provider struct {
	// Name is one of ProviderNames.
	Name string
	// BaseURL is where the provider's API lives, e.g.
	// https://financialmodelingprep.com; request paths are relative to it.
	BaseURL string
	// Key is the API key; empty means not configured.
	Key string
	// Model is the model of a model provider (Anthropic).
	Model string
	// RatePerMinute is the token bucket's rate (burst 1).
	RatePerMinute int
	// Timeout bounds one attempt, headers and body.
	Timeout time.Duration
	// AllowedHosts are the hosts the client may reach, "host" (any port)
	// or "host:port", case-insensitive; the base URL's host must be one.
	AllowedHosts []string
	// AllowLoopback lists exact ip:port endpoints on loopback addresses the
	// client may connect to (and reach over plain http): test servers only.
	AllowLoopback []string
	// Staleness is how old stored data of this provider may be before a
	// capability fetches it again.
	Staleness time.Duration
	// MaxAttempts bounds the attempts of one call (the first included).
	MaxAttempts int
	// MaxBodyBytes bounds a response body after decompression.
	MaxBodyBytes int64
	// Backoff is the wait before the second attempt when the provider
	// gives no Retry-After; it doubles for each next one.
	Backoff time.Duration
	// MaxRetryWait is the longest Retry-After the client waits for.
	MaxRetryWait time.Duration
}

// String describes the provider without its key.
func (p Provider) String() string {
	return fmt.Sprintf("provider %s (%s, key %s)", p.Name, p.BaseURL, keyState(p.Key))
}

// GoString is String, so %#v cannot print the key either.
func (p Provider) GoString() string { return p.String() }

// LogValue logs the provider without its key.
func (p Provider) LogValue() slog.Value {
	return slog.GroupValue(slog.String("name", p.Name), slog.String("base_url", p.BaseURL), slog.String("key", keyState(p.Key)))
}

func keyState(k string) string {
	if k == "" {
		return "not set"
	}
	return "set"
}

// withDefaults fills the zero fields.
func (p Provider) withDefaults() Provider {
	if p.Timeout <= 0 {
		p.Timeout = DefaultProviderTimeout
	}
	if p.RatePerMinute <= 0 {
		p.RatePerMinute = DefaultProviderRate
	}
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = DefaultProviderAttempts
	}
	if p.MaxBodyBytes <= 0 {
		p.MaxBodyBytes = DefaultProviderMaxBodyBytes
	}
	if p.Backoff <= 0 {
		p.Backoff = DefaultProviderBackoff
	}
	if p.MaxRetryWait <= 0 {
		p.MaxRetryWait = DefaultProviderMaxRetryWait
	}
	return p
}

// CheckProvider validates a provider's endpoint settings (not its key):
// the base URL is absolute, https (or http to an AllowLoopback endpoint),
// without user info, on an allowed host; every AllowLoopback entry is an
// ip:port on a loopback address. The configuration loader reports its
// error under the provider's keys.
func CheckProvider(p Provider) error {
	var errs []error
	for _, e := range p.AllowLoopback {
		ap, err := netip.ParseAddrPort(e)
		if err != nil || !ap.Addr().Unmap().IsLoopback() {
			errs = append(errs, fmt.Errorf("allow_loopback entry %q is not an ip:port on a loopback address", e))
		}
	}
	for _, h := range p.AllowedHosts {
		if h == "" || strings.ContainsAny(h, "/@ ") {
			errs = append(errs, fmt.Errorf("allowed host %q is not a host or host:port", h))
		}
	}
	u, err := url.Parse(p.BaseURL)
	switch {
	case p.BaseURL == "":
		errs = append(errs, errors.New("base URL is empty"))
	case err != nil:
		errs = append(errs, fmt.Errorf("base URL %q does not parse", p.BaseURL))
	default:
		if reason := p.refuseURL(u); reason != "" {
			errs = append(errs, fmt.Errorf("base URL %s: %s", p.BaseURL, reason))
		}
	}
	return errors.Join(errs...)
}

// refuseURL says why the client may not request u ("" when it may).
func (p Provider) refuseURL(u *url.URL) string {
	if u.User != nil {
		return "a URL with user info is refused"
	}
	host := strings.ToLower(u.Hostname())
	if host == "" {
		return "the URL has no host"
	}
	port := u.Port()
	switch u.Scheme {
	case "https":
		if port == "" {
			port = "443"
		}
	case "http":
		if port == "" {
			port = "80"
		}
		if !p.loopbackAllowed(net.JoinHostPort(host, port)) {
			return "plain http is refused (https only, except to an allow_loopback endpoint)"
		}
	default:
		return fmt.Sprintf("scheme %q is refused (https only)", u.Scheme)
	}
	for _, a := range p.AllowedHosts {
		a = strings.ToLower(a)
		if a == host || a == net.JoinHostPort(host, port) {
			return ""
		}
	}
	return fmt.Sprintf("host %s is not among the provider's allowed hosts (providers.%s.allowed_hosts)", u.Host, p.Name)
}

func (p Provider) loopbackAllowed(hostPort string) bool {
	ap, err := netip.ParseAddrPort(hostPort)
	if err != nil {
		return false
	}
	for _, e := range p.AllowLoopback {
		if ea, err := netip.ParseAddrPort(e); err == nil && ea.Addr().Unmap() == ap.Addr().Unmap() && ea.Port() == ap.Port() {
			return true
		}
	}
	return false
}

// ProviderRequest is one call to a provider's API.
type ProviderRequest struct {
	// Method is GET when empty.
	Method string
	// Path is relative to the base URL ("/stable/quote").
	Path  string
	Query url.Values
	// Header holds extra request headers (Content-Type, a version header).
	Header http.Header
	Body   []byte
	// The key goes in the query parameter KeyParam, or in the header
	// KeyHeader after KeyPrefix ("Bearer "); exactly one is set.
	KeyParam  string
	KeyHeader string
	KeyPrefix string
}

// ProviderResponse is a successful answer.
type ProviderResponse struct {
	Status int
	Header http.Header
	Body   []byte
	// FetchedAt is when the answer arrived (the Deps clock).
	FetchedAt time.Time
	// Attempts is how many attempts the call took.
	Attempts int
}

// ProviderClient calls one provider under the guarantees above. It is safe
// for concurrent use; build one per provider and agent.
type ProviderClient struct {
	p       Provider
	setup   error // why the configuration is unusable, or nil
	hc      *http.Client
	limiter *rate.Limiter
	log     *slog.Logger
	now     func() time.Time
}

// NewProviderClient builds the client of p. A provider with an unusable
// configuration still gets a client, whose every call fails with
// provider_not_configured saying why; a provider without a key likewise.
func NewProviderClient(p Provider, log *slog.Logger, now func() time.Time) *ProviderClient {
	p = p.withDefaults()
	if log == nil {
		log = slog.Default()
	}
	if now == nil {
		now = time.Now
	}
	c := &ProviderClient{p: p, log: log.With("provider", p.Name), now: now,
		limiter: rate.NewLimiter(rate.Limit(float64(p.RatePerMinute)/60), 1)}
	if p.Key != "" {
		if err := CheckProvider(p); err != nil {
			c.setup = err
		}
	}
	dialer := &net.Dialer{Timeout: p.Timeout, Control: c.checkPeer}
	c.hc = &http.Client{
		Transport: &http.Transport{
			// No proxy from the environment: the address check must see
			// the real peer.
			Proxy:               nil,
			DialContext:         dialer.DialContext,
			TLSHandshakeTimeout: p.Timeout,
			MaxIdleConnsPerHost: 4,
			IdleConnTimeout:     90 * time.Second,
			ForceAttemptHTTP2:   true,
		},
		CheckRedirect: c.checkRedirect,
	}
	return c
}

// Name is the provider's name.
func (c *ProviderClient) Name() string { return c.p.Name }

// Model is the configured model.
func (c *ProviderClient) Model() string { return c.p.Model }

// Staleness is how old stored data of this provider may be.
func (c *ProviderClient) Staleness() time.Duration { return c.p.Staleness }

// Ready returns nil when the provider can be called, else the
// provider_not_configured error every call would return.
func (c *ProviderClient) Ready() error {
	if c.p.Key == "" {
		return Errorf(CodeProviderNotConfigured, "provider %s is not configured: set %s (or providers.%s.key_file) to its API key",
			c.p.Name, ProviderKeyEnv(c.p.Name), c.p.Name)
	}
	if c.setup != nil {
		return Errorf(CodeProviderNotConfigured, "provider %s is not usable as configured (providers.%s): %s",
			c.p.Name, c.p.Name, c.redact(c.setup.Error()))
	}
	return nil
}

// refusal is an endpoint the guard refused: off the allow-list, a
// forbidden address, plain http, too many redirects.
type refusal struct{ reason string }

func (r *refusal) Error() string { return r.reason }

// checkRedirect applies the allow-list to every hop and keeps the key
// header off a hop to another host.
func (c *ProviderClient) checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) > maxProviderRedirects {
		return &refusal{fmt.Sprintf("more than %d redirects", maxProviderRedirects)}
	}
	if reason := c.p.refuseURL(req.URL); reason != "" {
		return &refusal{"redirect to " + c.redactURL(req.URL) + " refused: " + reason}
	}
	if len(via) > 0 && !strings.EqualFold(via[0].URL.Host, req.URL.Host) {
		for _, h := range []string{"X-Api-Key", "Authorization", "Apikey"} {
			req.Header.Del(h)
		}
	}
	return nil
}

// checkPeer runs after DNS resolution, before the connection is made, for
// every connection of the client (redirects included).
func (c *ProviderClient) checkPeer(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return &refusal{fmt.Sprintf("connection to %s refused: not an ip:port", address)}
	}
	ip := ap.Addr().Unmap()
	if why := forbiddenAddr(ip); why != "" {
		if ip.IsLoopback() && c.p.loopbackAllowed(address) {
			return nil
		}
		return &refusal{fmt.Sprintf("connection to %s refused: %s address", address, why)}
	}
	return nil
}

// Special-purpose IPv4 ranges the client never connects to beyond the ones
// netip classifies (RFC 6890 and its updates).
var forbiddenPrefixes = []struct {
	p   netip.Prefix
	why string
}{
	{netip.MustParsePrefix("0.0.0.0/8"), "this-network"},
	{netip.MustParsePrefix("100.64.0.0/10"), "shared (carrier-grade NAT)"},
	{netip.MustParsePrefix("192.0.0.0/24"), "IETF protocol assignment"},
	{netip.MustParsePrefix("192.0.2.0/24"), "documentation"},
	{netip.MustParsePrefix("198.18.0.0/15"), "benchmarking"},
	{netip.MustParsePrefix("198.51.100.0/24"), "documentation"},
	{netip.MustParsePrefix("203.0.113.0/24"), "documentation"},
	{netip.MustParsePrefix("240.0.0.0/4"), "reserved"},
	{netip.MustParsePrefix("2001:db8::/32"), "documentation"},
	{netip.MustParsePrefix("100::/64"), "discard"},
}

// forbiddenAddr names the class of an address the client must not reach,
// or "" for a public unicast address. IPv6 forms that embed an IPv4
// address (NAT64, 6to4) are judged by the embedded address.
func forbiddenAddr(ip netip.Addr) string {
	ip = ip.Unmap()
	switch {
	case !ip.IsValid():
		return "invalid"
	case ip.IsLoopback():
		return "loopback"
	case ip.IsPrivate():
		return "private"
	case ip.IsLinkLocalUnicast():
		return "link-local (cloud metadata lives here)"
	case ip.IsLinkLocalMulticast(), ip.IsInterfaceLocalMulticast(), ip.IsMulticast():
		return "multicast"
	case ip.IsUnspecified():
		return "unspecified"
	case ip == netip.AddrFrom4([4]byte{255, 255, 255, 255}):
		return "broadcast"
	}
	for _, f := range forbiddenPrefixes {
		if f.p.Contains(ip) {
			return f.why
		}
	}
	if ip.Is6() {
		b := ip.As16()
		if netip.MustParsePrefix("64:ff9b::/96").Contains(ip) {
			if why := forbiddenAddr(netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]})); why != "" {
				return "NAT64 of a " + why
			}
		}
		if netip.MustParsePrefix("2002::/16").Contains(ip) {
			if why := forbiddenAddr(netip.AddrFrom4([4]byte{b[2], b[3], b[4], b[5]})); why != "" {
				return "6to4 of a " + why
			}
		}
	}
	return ""
}

// keyParams are query parameters whose values are credentials whatever
// the key: they are redacted from every URL an error shows.
var keyParams = regexp.MustCompile(`(?i)((?:api_?key|apikey|access_token|token|key)=)[^&\s"]*`)

// redact removes the key (raw and escaped) and credential parameters.
func (c *ProviderClient) redact(s string) string {
	if k := c.p.Key; k != "" {
		for _, form := range []string{k, url.QueryEscape(k), url.PathEscape(k)} {
			s = strings.ReplaceAll(s, form, "[REDACTED]")
		}
	}
	return keyParams.ReplaceAllString(s, "${1}[REDACTED]")
}

func (c *ProviderClient) redactURL(u *url.URL) string {
	v := *u
	v.User = nil
	return c.redact(v.String())
}

// fail builds an *Error whose message names the provider and carries no
// secret; the cause is left out on purpose (its text could hold the key).
func (c *ProviderClient) fail(code string, retryable bool, format string, args ...any) *Error {
	return &Error{Code: code, Retryable: retryable, Message: c.redact(fmt.Sprintf("provider %s: ", c.p.Name) + fmt.Sprintf(format, args...))}
}

// Do calls the provider: the limiter, then up to MaxAttempts attempts with
// back-off. It returns a 2xx answer or an *Error (see the table above).
func (c *ProviderClient) Do(ctx context.Context, r ProviderRequest) (*ProviderResponse, error) {
	if err := c.Ready(); err != nil {
		return nil, err
	}
	u, err := c.buildURL(r)
	if err != nil {
		return nil, err
	}
	shown := c.redactURL(u)
	for attempt := 1; ; attempt++ {
		if err := c.limiter.Wait(ctx); err != nil {
			if ctx.Err() != nil {
				return nil, fmt.Errorf("provider %s, %s: wait for the rate limit: %w", c.p.Name, shown, ctx.Err())
			}
			return nil, c.fail(CodeUnavailable, true, "%s: the rate limit (%d a minute) leaves no slot before the deadline", shown, c.p.RatePerMinute)
		}
		start := c.now()
		resp, wait, err := c.attempt(ctx, r, u, shown)
		c.log.Debug("provider call", "url", shown, "attempt", attempt, "duration_ms", c.now().Sub(start).Milliseconds(), "ok", err == nil)
		if err == nil {
			resp.Attempts = attempt
			return resp, nil
		}
		var ae *Error
		if !errors.As(err, &ae) || !ae.Retryable || wait < 0 {
			return nil, err
		}
		if attempt >= c.p.MaxAttempts {
			return nil, c.fail(ae.Code, true, "%s after %d attempts", strings.TrimPrefix(ae.Message, "provider "+c.p.Name+": "), attempt)
		}
		if wait == 0 {
			wait = c.p.Backoff << (attempt - 1)
		}
		if wait > c.p.MaxRetryWait {
			return nil, c.fail(CodeUnavailable, true, "%s; asked to retry after %s, longer than the client waits (%s)",
				strings.TrimPrefix(ae.Message, "provider "+c.p.Name+": "), wait, c.p.MaxRetryWait)
		}
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
			return nil, c.fail(CodeUnavailable, true, "%s; the retry in %s would pass the deadline", strings.TrimPrefix(ae.Message, "provider "+c.p.Name+": "), wait)
		}
		c.log.Warn("provider call retried", "url", shown, "attempt", attempt, "wait_ms", wait.Milliseconds(), "err", ae.Message)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("provider %s, %s: wait to retry: %w", c.p.Name, shown, ctx.Err())
		case <-t.C:
		}
	}
}

func (c *ProviderClient) buildURL(r ProviderRequest) (*url.URL, error) {
	base, err := url.Parse(c.p.BaseURL)
	if err != nil {
		return nil, c.fail(CodeProviderNotConfigured, false, "base URL does not parse")
	}
	u := base.JoinPath(r.Path)
	q := url.Values{}
	for k, vs := range r.Query {
		q[k] = append([]string(nil), vs...)
	}
	if r.KeyParam != "" {
		q.Set(r.KeyParam, c.p.Key)
	}
	u.RawQuery = q.Encode()
	if reason := c.p.refuseURL(u); reason != "" {
		return nil, c.fail(CodeProviderNotConfigured, false, "%s refused: %s", c.redactURL(u), reason)
	}
	return u, nil
}

// attempt makes one request. wait is the Retry-After the provider asked
// for (0 when none), or -1 when the error must not be retried by the
// client even if its code is retryable (a bad body: the same bytes come
// back).
func (c *ProviderClient) attempt(ctx context.Context, r ProviderRequest, u *url.URL, shown string) (*ProviderResponse, time.Duration, error) {
	actx, cancel := context.WithTimeout(ctx, c.p.Timeout)
	defer cancel()
	method := r.Method
	if method == "" {
		method = http.MethodGet
	}
	var body io.Reader
	if r.Body != nil {
		body = bytes.NewReader(r.Body)
	}
	req, err := http.NewRequestWithContext(actx, method, u.String(), body)
	if err != nil {
		return nil, -1, c.fail(CodeInternal, false, "build request %s %s: %v", method, shown, err)
	}
	for k, vs := range r.Header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	req.Header.Set("User-Agent", "dawsos")
	if r.KeyHeader != "" {
		req.Header.Set(r.KeyHeader, r.KeyPrefix+c.p.Key)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, 0, c.transportError(ctx, actx, method, shown, err)
	}
	defer resp.Body.Close()
	data, rerr := io.ReadAll(io.LimitReader(resp.Body, c.p.MaxBodyBytes+1))
	if rerr != nil {
		if ctx.Err() != nil {
			return nil, -1, fmt.Errorf("provider %s, %s: read body: %w", c.p.Name, shown, ctx.Err())
		}
		if actx.Err() != nil {
			return nil, 0, c.fail(CodeUnavailable, true, "%s %s: the body did not arrive within the timeout (%s)", method, shown, c.p.Timeout)
		}
		return nil, 0, c.fail(CodeUnavailable, true, "%s %s: read body: %v", method, shown, rerr)
	}
	if int64(len(data)) > c.p.MaxBodyBytes {
		return nil, -1, c.fail(CodeUnavailable, true, "%s %s: the body is larger than the limit of %d bytes", method, shown, c.p.MaxBodyBytes)
	}
	switch s := resp.StatusCode; {
	case s >= 200 && s < 300:
		return &ProviderResponse{Status: s, Header: resp.Header, Body: data, FetchedAt: c.now()}, 0, nil
	case s == http.StatusTooManyRequests || s >= 500:
		wait, _ := retryAfter(resp.Header.Get("Retry-After"), c.now())
		return nil, wait, c.fail(CodeUnavailable, true, "%s %s answered %d%s", method, shown, s, c.excerpt(data))
	case s == http.StatusUnauthorized || s == http.StatusForbidden:
		return nil, -1, c.fail(CodeProviderNotConfigured, false, "%s %s answered %d: the key was rejected; check %s%s",
			method, shown, s, ProviderKeyEnv(c.p.Name), c.excerpt(data))
	case s == http.StatusNotFound:
		return nil, -1, c.fail(CodeNotFound, false, "%s %s answered 404%s", method, shown, c.excerpt(data))
	case s >= 400:
		return nil, -1, c.fail(CodeInvalidInput, false, "%s %s answered %d%s", method, shown, s, c.excerpt(data))
	default:
		return nil, -1, c.fail(CodeUnavailable, true, "%s %s answered %d, which the client does not follow", method, shown, s)
	}
}

func (c *ProviderClient) transportError(ctx, actx context.Context, method, shown string, err error) error {
	var rf *refusal
	switch {
	case errors.As(err, &rf):
		return c.fail(CodeProviderNotConfigured, false, "%s %s: %s", method, shown, rf.reason)
	case ctx.Err() != nil:
		return fmt.Errorf("provider %s, %s %s: %w", c.p.Name, method, shown, ctx.Err())
	case actx.Err() != nil, isNetTimeout(err):
		return c.fail(CodeUnavailable, true, "%s %s: no answer within the timeout (%s)", method, shown, c.p.Timeout)
	}
	msg := err.Error()
	var ue *url.Error
	if errors.As(err, &ue) {
		msg = ue.Err.Error()
	}
	return c.fail(CodeUnavailable, true, "%s %s: %s", method, shown, msg)
}

func isNetTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// excerpt quotes the start of an error body, redacted.
func (c *ProviderClient) excerpt(b []byte) string {
	s := strings.TrimSpace(string(bytes.ToValidUTF8(b, []byte("?"))))
	if s == "" {
		return ""
	}
	if len(s) > errorExcerpt {
		s = s[:errorExcerpt] + "…"
	}
	return ": " + c.redact(s)
}

// retryAfter parses a Retry-After value: delay-seconds or an HTTP-date
// (RFC 9110 §10.2.3). A date in the past means now.
func retryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n < 0 || n > int64(24*time.Hour/time.Second) {
			return 0, false
		}
		return time.Duration(n) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		d := t.Sub(now)
		if d < 0 {
			d = 0
		}
		return d, true
	}
	return 0, false
}

// GetJSON calls the provider and decodes its answer with DecodeProviderJSON.
func (c *ProviderClient) GetJSON(ctx context.Context, r ProviderRequest, v any) (*ProviderResponse, error) {
	resp, err := c.Do(ctx, r)
	if err != nil {
		return nil, err
	}
	if err := DecodeProviderJSON(c.p.Name, resp.Body, v); err != nil {
		var ae *Error
		if errors.As(err, &ae) {
			ae.Message = c.redact(ae.Message)
		}
		return nil, err
	}
	return resp, nil
}

// ProviderPayload is implemented by decoded provider answers that check
// what the type alone cannot: required fields present, values in range.
type ProviderPayload interface{ Check() error }

// DecodeProviderJSON decodes a provider's body into v strictly: exactly one
// JSON value, nothing but white space after it, every field of v's type
// with a value of its JSON type (a string where a number belongs is an
// error, never a zero), and v's Check (see ProviderPayload) passed. Fields
// v does not declare are ignored: providers add fields to documented
// answers without notice, and refusing them would turn an addition into an
// outage. Errors are unavailable (retryable, counted): the provider did
// not give the documented answer.
func DecodeProviderJSON(provider string, body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(v); err != nil {
		return &Error{Code: CodeUnavailable, Retryable: true,
			Message: fmt.Sprintf("provider %s answered a body that is not its documented JSON: %s", provider, describeJSONError(err))}
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return &Error{Code: CodeUnavailable, Retryable: true,
			Message: fmt.Sprintf("provider %s answered more than one JSON value", provider)}
	}
	if p, ok := v.(ProviderPayload); ok {
		if err := p.Check(); err != nil {
			return &Error{Code: CodeUnavailable, Retryable: true,
				Message: fmt.Sprintf("provider %s answered JSON without what its documentation promises: %v", provider, err)}
		}
	}
	return nil
}

func describeJSONError(err error) string {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te):
		return fmt.Sprintf("field %s is a JSON %s, not %s", te.Field, te.Value, te.Type)
	case errors.As(err, &se):
		return fmt.Sprintf("syntax error at byte %d: %v", se.Offset, se)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "the body is empty or cut short"
	}
	return err.Error()
}

// ProviderClients builds one client per known provider from the
// configured ones; a provider absent from the configuration gets a client
// whose calls fail with provider_not_configured.
func ProviderClients(d Deps) map[string]*ProviderClient {
	out := make(map[string]*ProviderClient, len(ProviderNames))
	for _, n := range ProviderNames {
		p, ok := d.Providers[n]
		if !ok {
			p = Provider{}
		}
		p.Name = n
		out[n] = NewProviderClient(p, d.Logger, d.Now)
	}
	return out
}
