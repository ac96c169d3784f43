package ingress_test

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// sendRaw sends bytes over a fresh connection and reads one response.
func sendRaw(t *testing.T, base, req string) (*http.Response, []byte) {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(conn, req); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("read the answer to %.40q: %v", req, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

// TestEdgeAnswersProblemsForBadRequests: requests no route can take, and
// text PostgreSQL cannot store, get a problem document with a correlation
// id and a 4xx, never plain text or a 5xx.
func TestEdgeAnswersProblemsForBadRequests(t *testing.T) {
	t.Parallel()
	e := setup(t)
	base := e.listen(t)
	cases := []struct {
		name, req string
		status    int
		code      string
		field     string
	}{
		{"lower-case method", "get /healthz HTTP/1.1\r\nHost: x\r\n\r\n", 400, "bad_request", ""},
		{"unknown method", "FROB /healthz HTTP/1.1\r\nHost: x\r\n\r\n", 400, "bad_request", ""},
		{"HTTP/2 preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 400, "bad_request", ""},
		{"two different Content-Length headers", "POST /v1/runs HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 9\r\n\r\n{}", 400, "bad_request", ""},
		{"NUL in a query parameter", "GET /v1/runs?pattern=a%00b HTTP/1.1\r\nHost: x\r\n\r\n", 400, "bad_request", "pattern"},
		{"invalid UTF-8 in a query parameter", "GET /v1/dlq?capability=%ff%fe HTTP/1.1\r\nHost: x\r\n\r\n", 400, "bad_request", "capability"},
		{"NUL in a JSON string", "POST /v1/runs HTTP/1.1\r\nHost: x\r\nAuthorization: " + e.users.admin.bearer() + "\r\nContent-Type: application/json\r\nContent-Length: 69\r\n\r\n" +
			`{"pattern":"test_chain","inputs":{"n":1},"idempotency_key":"a\u0000"}`, 422, "invalid_input", "idempotency_key"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			resp, body := sendRaw(t, base, c.req)
			if resp.StatusCode != c.status || resp.Header.Get("Content-Type") != "application/problem+json" || resp.Header.Get("X-Correlation-ID") == "" {
				t.Fatalf("status %d, content type %q, correlation %q: %s; want %d problem+json with a correlation id",
					resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("X-Correlation-ID"), body, c.status)
			}
			var p struct {
				Code          string `json:"code"`
				CorrelationID string `json:"correlation_id"`
				Fields        []struct {
					Field string `json:"field"`
				} `json:"fields"`
			}
			if err := json.Unmarshal(body, &p); err != nil || p.Code != c.code || p.CorrelationID == "" {
				t.Fatalf("problem %s; want code %s with a correlation id", body, c.code)
			}
			if c.field != "" && (len(p.Fields) == 0 || p.Fields[0].Field != c.field) {
				t.Fatalf("problem %s; want it to name field %s", body, c.field)
			}
		})
	}
}
