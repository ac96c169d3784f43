package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/dawsos/dawsos/ingress"
)

// Exit codes of the client commands. API errors and unreachable servers
// exit 1 (main's default for any error); usage errors exit 2.
const (
	exitAPI   = 1
	exitUsage = 2
)

// defaultRequestTimeout bounds one ordinary API call (not a stream, not a
// ?wait submission, which set their own).
const defaultRequestTimeout = 30 * time.Second

// usageErrorf is a mistake on the command line: exit code 2.
func usageErrorf(format string, args ...any) error {
	return &exitError{code: exitUsage, err: fmt.Errorf(format, args...)}
}

// clientFlags are the flags every client command shares.
type clientFlags struct {
	server    string
	authToken string
}

// addClientFlags registers --server and --auth-token and makes cobra's own
// flag and argument errors usage errors (exit 2) rather than main's
// default 1.
func addClientFlags(cmd *cobra.Command, f *clientFlags) {
	cmd.Flags().StringVar(&f.server, "server", "", `API base URL (default "http://" + server.listen of the configuration)`)
	cmd.Flags().StringVar(&f.authToken, "auth-token", "", "access token or API key (default $"+envToken+", else the login `dawsos login` stored)")
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return &exitError{code: exitUsage, err: err}
	})
}

// usageArgs wraps a cobra argument validator so that its error exits 2.
func usageArgs(v cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := v(cmd, args); err != nil {
			return &exitError{code: exitUsage, err: err}
		}
		return nil
	}
}

// client builds the API client: --server when given, else the configured
// listen address. The configuration is read only when --server is absent,
// so a client on another machine needs no config file. Its credential is
// --auth-token, else $DAWSOS_TOKEN, else the login `dawsos login` stored
// for that server (refreshed when it is about to expire).
func (f *clientFlags) client(g *globals) (*apiClient, error) {
	base := f.server
	if base == "" {
		cfg, _, err := g.load(nil)
		if err != nil {
			return nil, err
		}
		base = baseURLFromListen(cfg.Server.Listen)
	}
	c, err := newAPIClient(base)
	if err != nil {
		return nil, err
	}
	c.token = f.authToken
	if c.token == "" {
		c.token = os.Getenv(envToken)
	}
	if c.token == "" {
		c.token = storedToken(c)
	}
	return c, nil
}

// baseURLFromListen turns a listen address into a URL a client can dial:
// an empty or wildcard host (":8080", "0.0.0.0:8080", "[::]:8080") means
// this machine.
func baseURLFromListen(listen string) string {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return "http://" + listen
	}
	switch host {
	case "", "0.0.0.0", "::":
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// apiClient calls the DawsOS HTTP API (ARCHITECTURE.md §6).
type apiClient struct {
	base *url.URL
	// hc serves ordinary calls; its Timeout bounds each of them.
	hc *http.Client
	// stream serves event streams and ?wait submissions, which last as
	// long as a run: no overall timeout, the context bounds them.
	stream *http.Client
	// token is sent as the bearer credential of every request ("" for
	// none).
	token string
}

func newAPIClient(base string) (*apiClient, error) {
	u, err := url.Parse(strings.TrimRight(base, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, usageErrorf("--server must be an http(s) URL such as http://127.0.0.1:8080, got %q", base)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.ResponseHeaderTimeout = 0
	return &apiClient{
		base:   u,
		hc:     &http.Client{Timeout: defaultRequestTimeout, Transport: tr},
		stream: &http.Client{Transport: tr},
	}, nil
}

// close drops the idle connections, so no transport goroutine outlives the
// client (the tests check for leaks).
func (c *apiClient) close() { c.hc.CloseIdleConnections() }

// url joins an API path and query onto the base URL.
func (c *apiClient) url(path string, q url.Values) string {
	u := *c.base
	u.Path = strings.TrimRight(u.Path, "/") + path
	u.RawQuery = q.Encode()
	return u.String()
}

// newRequest builds a request with a JSON body when body is not nil.
func (c *apiClient) newRequest(ctx context.Context, method, path string, q url.Values, body any) (*http.Request, error) {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, fmt.Errorf("encode the request body of %s %s: %w", method, path, err)
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.url(path, q), r)
	if err != nil {
		return nil, fmt.Errorf("build %s %s: %w", method, path, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json, application/problem+json")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	return req, nil
}

// doJSON sends a request and returns the status and raw body of a 2xx
// answer; any other answer is an *apiError.
func (c *apiClient) doJSON(ctx context.Context, hc *http.Client, method, path string, q url.Values, body any) (int, []byte, error) {
	req, err := c.newRequest(ctx, method, path, q, body)
	if err != nil {
		return 0, nil, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, nil, transportError(method, path, c.base, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, nil, decodeAPIError(resp)
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, nil, fmt.Errorf("read the answer to %s %s: %w", method, path, err)
	}
	return resp.StatusCode, b, nil
}

// call is doJSON with the ordinary client, decoding the answer into out
// when out is not nil.
func (c *apiClient) call(ctx context.Context, method, path string, q url.Values, body, out any) (int, error) {
	status, b, err := c.doJSON(ctx, c.hc, method, path, q, body)
	if err != nil {
		return status, err
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return status, fmt.Errorf("decode the answer to %s %s: %w", method, path, err)
		}
	}
	return status, nil
}

// apiError is an error answer of the API: the problem document when the
// server sent one (RFC 9457), else the status and the start of the body.
type apiError struct {
	Status  int
	Problem *ingress.Problem
	// Body is the start of a non-problem answer (a proxy's HTML page).
	Body string
	// CorrelationID comes from the problem or the X-Correlation-ID header.
	CorrelationID string
}

func (e *apiError) Error() string {
	var sb strings.Builder
	if p := e.Problem; p != nil {
		code := p.Code
		if code == "" {
			code = strconv.Itoa(e.Status)
		}
		detail := p.Detail
		if detail == "" {
			detail = p.Title
		}
		fmt.Fprintf(&sb, "%s: %s", code, detail)
		if p.Capability != "" {
			fmt.Fprintf(&sb, " (capability %s)", p.Capability)
		}
		for _, f := range p.Fields {
			fmt.Fprintf(&sb, "\n  %s: %s", f.Field, f.Message)
		}
	} else {
		fmt.Fprintf(&sb, "HTTP %d %s", e.Status, http.StatusText(e.Status))
		if e.Body != "" {
			fmt.Fprintf(&sb, ": %s", e.Body)
		}
	}
	if e.CorrelationID != "" {
		fmt.Fprintf(&sb, "\n  correlation id: %s", e.CorrelationID)
	}
	if e.Status == http.StatusUnauthorized {
		fmt.Fprintf(&sb, "\n  log in with `dawsos login`, or set %s to an access token or API key", envToken)
	}
	return sb.String()
}

// maxErrorBody bounds how much of an error answer is read.
const maxErrorBody = 64 << 10

// decodeAPIError reads an error answer. A body that is a problem document
// is decoded whatever the Content-Type says, since some proxies rewrite it.
func decodeAPIError(resp *http.Response) error {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	e := &apiError{Status: resp.StatusCode, CorrelationID: resp.Header.Get(ingress.HeaderCorrelationID)}
	var p ingress.Problem
	if err := json.Unmarshal(b, &p); err == nil && (p.Code != "" || p.Detail != "" || p.Title != "") {
		e.Problem = &p
		if p.CorrelationID != "" {
			e.CorrelationID = p.CorrelationID
		}
		return e
	}
	body := strings.TrimSpace(string(b))
	if len(body) > 200 {
		body = body[:200] + "…"
	}
	e.Body = body
	return e
}

// sseMessage is one dispatched Server-Sent Event.
type sseMessage struct {
	ID    string
	Event string
	Data  string
}

// sseReader parses a text/event-stream body following the WHATWG HTML
// "Server-sent events" parsing rules: lines end with CRLF, LF or CR; a line
// starting with ':' is a comment; "field: value" loses one space after the
// colon; data lines join with "\n"; a blank line dispatches the event
// unless it has no data; the last event id persists across events.
type sseReader struct {
	sc *bufio.Scanner
	// LastID is the id of the last event with an id field; it is what a
	// reconnecting client sends as Last-Event-ID.
	LastID string
	// Retry is the reconnection delay the server asked for, 0 if none.
	Retry time.Duration
}

// maxSSELine bounds one line of an event stream.
const maxSSELine = 4 << 20

func newSSEReader(r io.Reader) *sseReader {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxSSELine)
	sc.Split(scanSSELines)
	return &sseReader{sc: sc}
}

// scanSSELines splits at CRLF, LF or a lone CR.
func scanSSELines(data []byte, atEOF bool) (int, []byte, error) {
	for i, b := range data {
		switch b {
		case '\n':
			return i + 1, data[:i], nil
		case '\r':
			if i+1 < len(data) {
				if data[i+1] == '\n' {
					return i + 2, data[:i], nil
				}
				return i + 1, data[:i], nil
			}
			if atEOF {
				return i + 1, data[:i], nil
			}
			// A CR at the end of the buffer may start a CRLF.
			return 0, nil, nil
		}
	}
	if atEOF && len(data) > 0 {
		return len(data), data, nil
	}
	return 0, nil, nil
}

// Next returns the next event. At the end of the stream it returns io.EOF
// (an event without its final blank line is discarded, as the standard
// says), or the read error.
func (s *sseReader) Next() (sseMessage, error) {
	var (
		m       sseMessage
		data    strings.Builder
		hasData bool
		id      = s.LastID
	)
	for s.sc.Scan() {
		line := s.sc.Text()
		if line == "" {
			s.LastID = id
			if !hasData {
				m = sseMessage{}
				continue
			}
			m.ID = id
			m.Data = strings.TrimSuffix(data.String(), "\n")
			return m, nil
		}
		if line[0] == ':' {
			continue
		}
		field, value, found := strings.Cut(line, ":")
		if found {
			value = strings.TrimPrefix(value, " ")
		}
		switch field {
		case "event":
			m.Event = value
		case "data":
			data.WriteString(value)
			data.WriteByte('\n')
			hasData = true
		case "id":
			if !strings.ContainsRune(value, 0) {
				id = value
			}
		case "retry":
			if n, err := strconv.ParseUint(value, 10, 63); err == nil {
				s.Retry = time.Duration(n) * time.Millisecond
			}
		}
	}
	if err := s.sc.Err(); err != nil {
		return sseMessage{}, err
	}
	return sseMessage{}, io.EOF
}

// transportError names the request without repeating the URL that
// *url.Error already holds.
func transportError(method, path string, base *url.URL, err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return fmt.Errorf("%s %s at %s: %w", method, path, base, err)
}

// isRetryable reports whether a failed stream request is worth another
// try: transport errors and 5xx answers, not the client's own mistakes.
func isRetryable(err error) bool {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae.Status >= 500 || ae.Status == http.StatusTooManyRequests
	}
	return !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded)
}
