package bus_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"log/slog"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/bus"
	"github.com/dawsos/dawsos/orchestrator"
	"github.com/dawsos/dawsos/storage/pgtest"
)

// The passwords of the listener's accounts in these tests.
const (
	orchestratorPW = "orchestrator-pw"
	workerPW       = "worker-pw"
	subscriberPW   = "subscriber-pw"
)

var testAccounts = []bus.Account{
	{Role: bus.AccountOrchestrator, Password: orchestratorPW},
	{Role: bus.AccountWorker, Password: workerPW},
	{Role: bus.AccountSubscriber, Password: subscriberPW},
}

// startListening runs an embedded NATS with a TCP listener and the three
// accounts.
func startListening(t *testing.T, tweak func(*bus.Config)) *bus.Bus {
	t.Helper()
	dir, err := os.MkdirTemp("", "dawsos-bus-auth-")
	if err != nil {
		t.Fatal(err)
	}
	cfg := bus.Config{StoreDir: dir, Listen: "127.0.0.1:0", Accounts: testAccounts}
	if tweak != nil {
		tweak(&cfg)
	}
	b, err := bus.Start(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		os.RemoveAll(dir)
		t.Fatal(err)
	}
	t.Cleanup(func() {
		b.Close()
		os.RemoveAll(dir)
	})
	return b
}

// client connects over TCP and collects the server's asynchronous errors
// (permission violations).
type client struct {
	nc   *nats.Conn
	errs chan error
}

func connect(t *testing.T, url string, opts ...nats.Option) (*client, error) {
	t.Helper()
	c := &client{errs: make(chan error, 16)}
	opts = append(opts, nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { c.errs <- err }), nats.MaxReconnects(0))
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		return nil, err
	}
	c.nc = nc
	t.Cleanup(nc.Close)
	return c, nil
}

func mustConnect(t *testing.T, url, user, pw string, opts ...nats.Option) *client {
	t.Helper()
	c, err := connect(t, url, append(opts, nats.UserInfo(user, pw))...)
	if err != nil {
		t.Fatalf("connect as %s: %v", user, err)
	}
	return c
}

// refused waits for the server to refuse what the client just did.
func (c *client) refused(t *testing.T, what string) {
	t.Helper()
	if err := c.nc.Flush(); err != nil && !strings.Contains(err.Error(), "ermission") {
		t.Fatalf("%s: flush: %v", what, err)
	}
	select {
	case err := <-c.errs:
		if !strings.Contains(strings.ToLower(err.Error()), "permissions violation") {
			t.Fatalf("%s: error %v; want a permissions violation", what, err)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("%s: the server did not refuse it", what)
	}
}

func (c *client) allowed(t *testing.T, what string) {
	t.Helper()
	if err := c.nc.Flush(); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	select {
	case err := <-c.errs:
		t.Fatalf("%s: refused: %v", what, err)
	case <-time.After(200 * time.Millisecond):
	}
}

// TestListenerRequiresAccounts: a listener without accounts is refused at
// start-up, and without a listener nothing needs one.
func TestListenerRequiresAccounts(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	_, err := bus.Start(context.Background(), bus.Config{StoreDir: dir, Listen: "127.0.0.1:0"}, slog.New(slog.DiscardHandler))
	if err == nil || !strings.Contains(err.Error(), "no accounts") {
		t.Fatalf("Start with a listener and no accounts: %v; want it refused", err)
	}
	_, err = bus.Start(context.Background(), bus.Config{StoreDir: dir, Listen: "127.0.0.1:0",
		Accounts: []bus.Account{{Role: "root", Password: "x"}}}, slog.New(slog.DiscardHandler))
	if err == nil || !strings.Contains(err.Error(), "root") {
		t.Fatalf("Start with an account of an unknown role: %v; want it refused", err)
	}
}

// TestListenerRefusesUnauthenticatedClients: no credentials, a wrong
// password, and another account's password are all refused.
func TestListenerRefusesUnauthenticatedClients(t *testing.T) {
	t.Parallel()
	b := startListening(t, nil)
	url := b.ClientURL()
	for name, opts := range map[string][]nats.Option{
		"no credentials":          nil,
		"wrong password":          {nats.UserInfo(bus.AccountWorker, "guess")},
		"another account's":       {nats.UserInfo(bus.AccountWorker, subscriberPW)},
		"the in-process user":     {nats.UserInfo("dawsos-internal", "")},
		"an unknown user":         {nats.UserInfo("admin", orchestratorPW)},
		"a token instead of user": {nats.Token(orchestratorPW)},
	} {
		if _, err := connect(t, url, opts...); err == nil || !strings.Contains(strings.ToLower(err.Error()), "authorization") {
			t.Errorf("connect with %s: %v; want an authorization violation", name, err)
		}
	}
	// The process's own in-process connection needs none of them.
	if err := b.Healthy(); err != nil {
		t.Fatalf("in-process connection: %v", err)
	}
}

// TestWorkerAccountPermissions: a worker may publish step results and
// subscribe to step requests, and may not publish step requests, dead
// letters or run events.
func TestWorkerAccountPermissions(t *testing.T) {
	t.Parallel()
	b := startListening(t, nil)
	w := mustConnect(t, b.ClientURL(), bus.AccountWorker, workerPW)
	for _, subject := range []string{bus.StepSubject("test.cap"), bus.DLQSubject("test.cap"), bus.EventSubject(uuid.NewString(), "run.completed")} {
		if err := w.nc.Publish(subject, []byte(`{}`)); err != nil {
			t.Fatal(err)
		}
		w.refused(t, "worker publishes "+subject)
	}
	st, err := b.JS.Stream(context.Background(), bus.StreamSteps)
	if err != nil {
		t.Fatal(err)
	}
	if info, err := st.Info(context.Background()); err != nil || info.State.Msgs != 0 {
		t.Fatalf("STEPS after the worker's publish: %+v %v; want empty", info, err)
	}
	if _, err := w.nc.Subscribe(bus.StepSubject("test.cap"), func(*nats.Msg) {}); err != nil {
		t.Fatal(err)
	}
	w.allowed(t, "worker subscribes to step requests")
	if _, err := w.nc.Subscribe("dawsos.run.>", func(*nats.Msg) {}); err != nil {
		t.Fatal(err)
	}
	w.refused(t, "worker subscribes to run events")
	if err := w.nc.Publish(bus.ResultSubject(uuid.NewString()), []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	w.allowed(t, "worker publishes a step result")
}

// TestSubscriberAccountPermissions: a subscriber follows run events and
// can neither publish a result nor read step requests.
func TestSubscriberAccountPermissions(t *testing.T) {
	t.Parallel()
	b := startListening(t, nil)
	s := mustConnect(t, b.ClientURL(), bus.AccountSubscriber, subscriberPW, nats.CustomInboxPrefix(bus.InboxPrefix(bus.AccountSubscriber)))
	events := make(chan *nats.Msg, 4)
	if _, err := s.nc.ChanSubscribe("dawsos.run.>", events); err != nil {
		t.Fatal(err)
	}
	s.allowed(t, "subscriber subscribes to run events")
	run := uuid.NewString()
	if err := b.PublishEvents([]bus.RunEvent{{RunID: run, Seq: 1, Type: "run.completed", Data: json.RawMessage(`{}`)}}); err != nil {
		t.Fatal(err)
	}
	select {
	case m := <-events:
		if m.Subject != bus.EventSubject(run, "run.completed") {
			t.Fatalf("event on %s", m.Subject)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the subscriber got no run event")
	}
	if err := s.nc.Publish(bus.ResultSubject(run), []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	s.refused(t, "subscriber publishes a step result")
	if _, err := s.nc.Subscribe("dawsos.step.>", func(*nats.Msg) {}); err != nil {
		t.Fatal(err)
	}
	s.refused(t, "subscriber subscribes to step requests")
	if _, err := s.nc.Subscribe("_INBOX.>", func(*nats.Msg) {}); err != nil {
		t.Fatal(err)
	}
	s.refused(t, "subscriber reads everyone's replies")
}

// TestWorkerRunsStepsOverTheListener runs an agent router in a second
// "process" that logs in with the worker account: it consumes a step,
// answers its result, and dead-letters a failing one, all within the
// worker's permissions.
func TestWorkerRunsStepsOverTheListener(t *testing.T) {
	t.Parallel()
	b := startListening(t, nil)
	out := results(t, b)
	w, err := bus.Start(context.Background(), bus.Config{URL: b.ClientURL(), User: bus.AccountWorker, Password: workerPW, Worker: true},
		slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("start the worker's bus: %v", err)
	}
	t.Cleanup(w.Close)
	db := pgtest.NewDB(t)
	r, err := w.NewAgentRouter(context.Background(), bus.AgentRouterConfig{
		InitialBackoff: 5 * time.Millisecond, DeadLetters: orchestrator.DeadLetterStore{DB: db}, Classify: orchestrator.Classify,
		Logger: slog.New(slog.DiscardHandler),
	}, []bus.Handler{{Capability: "test.cap", Agent: "test", Timeout: 5 * time.Second, MaxAttempts: 1, Concurrency: 1,
		Invoke: func(_ context.Context, req *bus.StepRequest) (json.RawMessage, error) {
			if string(req.Args) == `{"fail":true}` {
				return nil, agents.Errorf(agents.CodeInvalidInput, "asked to fail")
			}
			return json.RawMessage(`{"ok":true}`), nil
		}}})
	if err != nil {
		t.Fatalf("worker's agent router: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() { _ = r.Run(ctx) }()
	<-r.Running()
	t.Cleanup(func() {
		_ = r.Close()
		cancel()
	})
	h := &harness{b: b, db: db}
	for _, args := range []string{`{}`, `{"fail":true}`} {
		run := uuid.NewString()
		h.insertRun(t, run)
		if err := b.PublishSteps(context.Background(), []bus.StepRequest{{RunID: run, StepID: "s", Attempt: 1, Capability: "test.cap", Args: json.RawMessage(args)}}); err != nil {
			t.Fatal(err)
		}
		select {
		case res := <-out:
			if res.RunID != run || res.OK != (args == `{}`) {
				t.Fatalf("result for args %s: %+v", args, res)
			}
			if !res.OK && res.DeadLetterID == "" {
				t.Fatalf("the failed step was not dead-lettered: %+v", res)
			}
		case <-time.After(20 * time.Second):
			t.Fatalf("no result from the worker for args %s", args)
		}
	}
}

// TestListenerTLS: with a certificate the listener speaks TLS; a client
// that trusts it connects, a plain one does not, and the in-process
// connection needs no TLS.
func TestListenerTLS(t *testing.T) {
	t.Parallel()
	cert, key, ca := selfSigned(t)
	b := startListening(t, func(c *bus.Config) { c.TLSCertFile, c.TLSKeyFile = cert, key })
	if !strings.HasPrefix(b.ClientURL(), "tls://") {
		t.Errorf("client URL %s; want tls://", b.ClientURL())
	}
	mustConnect(t, b.ClientURL(), bus.AccountOrchestrator, orchestratorPW, nats.RootCAs(ca))
	plain := strings.Replace(b.ClientURL(), "tls://", "nats://", 1)
	if _, err := connect(t, plain, nats.UserInfo(bus.AccountOrchestrator, orchestratorPW)); err == nil {
		t.Error("a client without TLS connected")
	}
	if err := b.Healthy(); err != nil {
		t.Fatalf("in-process connection under TLS: %v", err)
	}
	w, err := bus.Start(context.Background(), bus.Config{URL: b.ClientURL(), User: bus.AccountWorker, Password: workerPW, TLSCAFile: ca, Worker: true},
		slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("worker over TLS: %v", err)
	}
	w.Close()
}

// selfSigned writes a certificate for 127.0.0.1 (its own CA) and its key.
func selfSigned(t *testing.T) (certFile, keyFile, caFile string) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "dawsos test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA: true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile, certFile
}
