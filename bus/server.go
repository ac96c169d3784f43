// Package bus owns the message transport of DawsOS: the embedded NATS server
// with JetStream, the streams and consumers, subject names, message
// envelopes, and the watermill router whose middleware isolates each
// capability (correlation, dead letters, breakers, retries, timeouts).
package bus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Config is the bus section of the configuration.
type Config struct {
	// URL selects an external NATS server; empty runs one in-process.
	URL string
	// Listen opens a TCP listener on the embedded server ("127.0.0.1:4222",
	// or port 0 for a free one) so outside clients can subscribe; empty
	// keeps the embedded server reachable in-process only.
	Listen string
	// StoreDir holds the JetStream file store of the embedded server.
	StoreDir string
	// SyncAlways fsyncs every JetStream write. Off by default: PostgreSQL
	// is the record and recovery republishes what the bus lost.
	SyncAlways bool
	// QueueStorage is the storage of the STEPS and RESULTS work queues:
	// QueueStorageFile (default) or QueueStorageMemory. Memory saves the
	// file store's per-message work when a queue empties (measured here:
	// about 1 ms of a one-step run's 4 ms) and loses the queues on a
	// restart, which Resume repairs from PostgreSQL.
	QueueStorage string
	// MaxMemory and MaxStore bound JetStream; sized from the host otherwise.
	MaxMemory int64
	MaxStore  int64
	// Replicas is the stream replica count (1 embedded, 3 on a cluster).
	Replicas int
	// DLQMaxAge bounds how long dead letters stay on the DLQ stream.
	DLQMaxAge time.Duration
	// EventsMaxAge bounds how long run events stay on the EVENTS stream.
	EventsMaxAge time.Duration

	// Accounts are the users of the listener, which requires
	// authentication: Listen without accounts is refused. In-process
	// connections need none of them.
	Accounts []Account
	// TLSCertFile and TLSKeyFile, when set, put TLS on the listener.
	TLSCertFile string
	TLSKeyFile  string

	// User and Password, or NKeySeedFile, are this process's credentials
	// on the server at URL; TLSCAFile verifies that server's certificate.
	User         string
	Password     string
	NKeySeedFile string
	TLSCAFile    string
	// Worker says the process connects with a worker account: it creates
	// no streams (the orchestrator's process does), publishes nothing but
	// step results (its dead letters are recorded in PostgreSQL and
	// announced by the orchestrator's step.dead_lettered run event), and
	// reads its replies under InboxPrefix(AccountWorker).
	Worker bool
}

// Work-queue storage choices.
const (
	QueueStorageFile   = "file"
	QueueStorageMemory = "memory"
)

// Bus is a connected NATS client plus, when embedded, the server itself.
type Bus struct {
	cfg  Config
	srv  *server.Server
	Conn *nats.Conn
	JS   jetstream.JetStream
	log  *slog.Logger
	// internalPassword authenticates in-process connections when the
	// server has users ("" when it has none).
	internalPassword string
}

// Start runs the embedded server (unless cfg.URL is set), connects, and
// creates or updates the four streams.
func Start(ctx context.Context, cfg Config, log *slog.Logger) (*Bus, error) {
	if log == nil {
		log = slog.Default()
	}
	if cfg.Replicas <= 0 {
		cfg.Replicas = 1
	}
	if cfg.DLQMaxAge <= 0 {
		cfg.DLQMaxAge = 14 * 24 * time.Hour
	}
	if cfg.EventsMaxAge <= 0 {
		cfg.EventsMaxAge = 24 * time.Hour
	}
	b := &Bus{cfg: cfg, log: log}
	if cfg.URL == "" {
		srv, internal, err := startEmbedded(cfg)
		if err != nil {
			return nil, err
		}
		b.srv, b.internalPassword = srv, internal
		if cfg.Listen != "" {
			log.Info("nats listening", "url", b.ClientURL(), "accounts", len(cfg.Accounts), "tls", cfg.TLSCertFile != "")
		}
	}
	opts, err := b.connOptions("dawsos")
	if err != nil {
		b.Close()
		return nil, err
	}
	nc, err := nats.Connect(cfg.URL, opts...)
	if err != nil {
		b.Close()
		return nil, fmt.Errorf("connect to nats %q: %w", cfg.URL, err)
	}
	b.Conn = nc
	js, err := jetstream.New(nc,
		jetstream.WithPublishAsyncMaxPending(8192),
		jetstream.WithPublishAsyncErrHandler(func(_ jetstream.JetStream, m *nats.Msg, err error) {
			log.Warn("async publish failed", "subject", m.Subject, "err", err)
		}))
	if err != nil {
		b.Close()
		return nil, fmt.Errorf("open jetstream: %w", err)
	}
	b.JS = js
	if cfg.Worker {
		// The orchestrator's process creates the streams; a worker
		// account may not.
		return b, nil
	}
	if err := b.ensureStreams(ctx); err != nil {
		b.Close()
		return nil, err
	}
	return b, nil
}

// startEmbedded starts the in-process server and returns it with the
// password of its in-process user ("" when it has no users).
func startEmbedded(cfg Config) (*server.Server, string, error) {
	if cfg.StoreDir == "" {
		return nil, "", errors.New("nats store directory is empty")
	}
	o := &server.Options{
		ServerName:         "dawsos",
		JetStream:          true,
		StoreDir:           cfg.StoreDir,
		SyncAlways:         cfg.SyncAlways,
		JetStreamMaxMemory: cfg.MaxMemory,
		JetStreamMaxStore:  cfg.MaxStore,
		NoSigs:             true,
		NoLog:              true,
		DontListen:         true,
	}
	if o.JetStreamMaxMemory <= 0 {
		o.JetStreamMaxMemory = 256 << 20
	}
	if o.JetStreamMaxStore <= 0 {
		o.JetStreamMaxStore = 8 << 30
	}
	if cfg.Listen != "" {
		host, port, err := net.SplitHostPort(cfg.Listen)
		if err != nil {
			return nil, "", fmt.Errorf("nats.listen %q: %w", cfg.Listen, err)
		}
		p, err := strconv.Atoi(port)
		if err != nil {
			return nil, "", fmt.Errorf("nats.listen %q: port: %w", cfg.Listen, err)
		}
		if p == 0 {
			p = server.RANDOM_PORT
		}
		o.DontListen = false
		o.Host = host
		o.Port = p
	}
	internal, err := configureAuth(o, cfg)
	if err != nil {
		return nil, "", err
	}
	if err := configureTLS(o, cfg); err != nil {
		return nil, "", err
	}
	srv, err := server.NewServer(o)
	if err != nil {
		return nil, "", fmt.Errorf("create embedded nats: %w", err)
	}
	srv.Start()
	if !srv.ReadyForConnections(10 * time.Second) {
		srv.Shutdown()
		if cfg.Listen != "" {
			return nil, "", fmt.Errorf("embedded nats not ready within 10s (is %s in use?)", cfg.Listen)
		}
		return nil, "", errors.New("embedded nats not ready within 10s")
	}
	return srv, internal, nil
}

// connect opens another client connection to the same server, for parts
// that must not share the main one.
func (b *Bus) connect(name string) (*nats.Conn, error) {
	opts, err := b.connOptions(name)
	if err != nil {
		return nil, err
	}
	nc, err := nats.Connect(b.cfg.URL, opts...)
	if err != nil {
		return nil, fmt.Errorf("connect %s to nats: %w", name, err)
	}
	return nc, nil
}

// ClientURL is the TCP URL outside clients use, or "" when none is open.
func (b *Bus) ClientURL() string {
	if b.srv == nil {
		return b.cfg.URL
	}
	if b.cfg.Listen == "" {
		return ""
	}
	return b.srv.ClientURL()
}

// Healthy reports whether the client is connected (for /readyz).
func (b *Bus) Healthy() error {
	if b.Conn == nil || !b.Conn.IsConnected() {
		return errors.New("nats: not connected")
	}
	return nil
}

// Close drains nothing: callers stop their routers first. It closes the
// client and shuts the embedded server down.
func (b *Bus) Close() {
	if b.Conn != nil {
		b.Conn.Close()
	}
	if b.srv != nil {
		b.srv.Shutdown()
		b.srv.WaitForShutdown()
	}
}
