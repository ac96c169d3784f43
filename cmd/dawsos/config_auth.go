package main

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/nats-io/nkeys"

	"github.com/dawsos/dawsos/bus"
	"github.com/dawsos/dawsos/ingress"
)

// AuthConfig is the authentication of the HTTP API. The HS256 secret is
// never read from the configuration: it comes from DAWSOS_AUTH_JWT_SECRET
// or from the file JWTSecretFile names, and lives in an unexported field
// that nothing prints.
type AuthConfig struct {
	JWTSecretFile           string        `koanf:"jwt_secret_file"`
	JWTKeyFile              string        `koanf:"jwt_key_file"`
	AccessTTL               time.Duration `koanf:"access_ttl"`
	RefreshTTL              time.Duration `koanf:"refresh_ttl"`
	CacheTTL                time.Duration `koanf:"cache_ttl"`
	LoginWindow             time.Duration `koanf:"login_window"`
	LoginFailures           int           `koanf:"login_failures"`
	LoginFailuresPerAddress int           `koanf:"login_failures_per_address"`

	secret string
}

// NATSAccounts are the accounts of the embedded server's listener.
type NATSAccounts struct {
	Orchestrator NATSAccount `koanf:"orchestrator"`
	Worker       NATSAccount `koanf:"worker"`
	Subscriber   NATSAccount `koanf:"subscriber"`
}

// NATSAccount is one account: an NKey public key here, or a password from
// DAWSOS_NATS_ACCOUNTS_<ROLE>_PASSWORD (never from the file).
type NATSAccount struct {
	NKey string `koanf:"nkey"`

	password string
}

func (a *NATSAccounts) byRole() map[string]*NATSAccount {
	return map[string]*NATSAccount{bus.AccountOrchestrator: &a.Orchestrator, bus.AccountWorker: &a.Worker, bus.AccountSubscriber: &a.Subscriber}
}

// Environment variables of the secrets; the configuration keys they stand
// for are refused in a file.
const (
	envJWTSecret    = "DAWSOS_AUTH_JWT_SECRET"
	envNATSPassword = "DAWSOS_NATS_PASSWORD"
)

func envAccountPassword(role string) string {
	return "DAWSOS_NATS_ACCOUNTS_" + strings.ToUpper(role) + "_PASSWORD"
}

// secretKeys maps the configuration keys that must not appear in a file
// to the variable that sets them.
func secretKeys() map[string]string {
	m := map[string]string{"auth.jwt_secret": envJWTSecret, "nats.password": envNATSPassword}
	for role := range (&NATSAccounts{}).byRole() {
		m["nats.accounts."+role+".password"] = envAccountPassword(role)
	}
	return m
}

// readSecrets takes the secrets from the environment, and the JWT secret
// from auth.jwt_secret_file when the variable is not set.
func (c *Config) readSecrets(environ []string) error {
	env := map[string]string{}
	for _, kv := range environ {
		if name, val, ok := strings.Cut(kv, "="); ok {
			env[name] = val
		}
	}
	c.NATS.password = env[envNATSPassword]
	for role, a := range c.NATS.Accounts.byRole() {
		a.password = env[envAccountPassword(role)]
	}
	c.Auth.secret = env[envJWTSecret]
	if c.Auth.secret != "" || c.Auth.JWTSecretFile == "" {
		return nil
	}
	b, err := os.ReadFile(c.Auth.JWTSecretFile)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return fmt.Errorf("config key auth.jwt_secret_file: cannot read %s: %v", c.Auth.JWTSecretFile, err)
	}
	if c.Auth.secret = strings.TrimSpace(string(b)); c.Auth.secret == "" {
		return fmt.Errorf("config key auth.jwt_secret_file: %s is empty", c.Auth.JWTSecretFile)
	}
	return nil
}

// validateAuth checks the auth section, the metrics setting and the
// bus's accounts and TLS.
func (c Config) validateAuth(bad func(key, format string, args ...any)) {
	a := c.Auth
	if a.secret != "" && a.JWTKeyFile != "" {
		bad("auth.jwt_key_file", "is set together with a JWT secret; choose HS256 (the secret) or EdDSA (the key file)")
	}
	if a.secret != "" && len(a.secret) < ingress.MinSecretBytes {
		bad("auth.jwt_secret", "has %d bytes; at least %d are needed (openssl rand -base64 48)", len(a.secret), ingress.MinSecretBytes)
	}
	for _, d := range []struct {
		key string
		d   time.Duration
	}{{"auth.access_ttl", a.AccessTTL}, {"auth.refresh_ttl", a.RefreshTTL}, {"auth.cache_ttl", a.CacheTTL}, {"auth.login_window", a.LoginWindow}} {
		if d.d <= 0 {
			bad(d.key, "must be positive")
		}
	}
	if a.AccessTTL > a.RefreshTTL {
		bad("auth.access_ttl", "%s is longer than auth.refresh_ttl %s", a.AccessTTL, a.RefreshTTL)
	}
	if a.LoginFailures < 1 {
		bad("auth.login_failures", "%d is below 1", a.LoginFailures)
	}
	if a.LoginFailuresPerAddress < a.LoginFailures {
		bad("auth.login_failures_per_address", "%d is below auth.login_failures", a.LoginFailuresPerAddress)
	}
	switch c.Server.Metrics {
	case ingress.MetricsLoopback, ingress.MetricsOpen, ingress.MetricsToken:
	default:
		bad("server.metrics", "%q is not loopback, open or token", c.Server.Metrics)
	}
	n := c.NATS
	if (n.TLSCertFile == "") != (n.TLSKeyFile == "") {
		bad("nats.tls_cert_file", "needs nats.tls_key_file, and the other way round")
	}
	if n.Listen != "" && len(c.busAccounts()) == 0 {
		bad("nats.listen", "is set but no account may use it: the listener requires authentication, so set %s (or another account's password or nkey; docs/security.md)",
			envAccountPassword(bus.AccountWorker))
	}
	for role, acc := range (&n.Accounts).byRole() {
		if acc.NKey != "" && !nkeys.IsValidPublicUserKey(acc.NKey) {
			bad("nats.accounts."+role+".nkey", "%q is not an NKey user public key (U...)", acc.NKey)
		}
	}
}

// busAccounts are the configured accounts of the listener.
func (c Config) busAccounts() []bus.Account {
	var out []bus.Account
	for role, acc := range (&c.NATS.Accounts).byRole() {
		if acc.password != "" {
			out = append(out, bus.Account{Role: role, Password: acc.password})
		}
		if acc.NKey != "" {
			out = append(out, bus.Account{Role: role, NKey: acc.NKey})
		}
	}
	return out
}

// signer builds the access-token signer: EdDSA with auth.jwt_key_file,
// HS256 with the secret. With neither, `serve --demo` draws a secret for
// this process alone (its tokens end with it, which the log says), so the
// demo runs on a fresh machine; anything else refuses to start.
func (a AuthConfig) signer(demo bool, log *slog.Logger) (*ingress.Signer, error) {
	switch {
	case a.JWTKeyFile != "":
		b, err := os.ReadFile(a.JWTKeyFile)
		if err != nil {
			return nil, fmt.Errorf("config key auth.jwt_key_file: %w", err)
		}
		s, err := ingress.NewEdDSASigner(b)
		if err != nil {
			return nil, fmt.Errorf("config key auth.jwt_key_file: %w", err)
		}
		return s, nil
	case a.secret != "":
		return ingress.NewHS256Signer([]byte(a.secret))
	case demo:
		log.Warn("no JWT secret is configured (" + envJWTSecret + "): access tokens are signed with a secret drawn for this process, and end with it")
		return ingress.RandomSigner()
	}
	return nil, fmt.Errorf("no JWT secret: set %s (at least %d bytes, e.g. from openssl rand -base64 48) or auth.jwt_key_file; only serve --demo runs without one",
		envJWTSecret, ingress.MinSecretBytes)
}

// ingressAuth is the auth section as the ingress takes it.
func (c Config) ingressAuth(s *ingress.Signer) ingress.AuthConfig {
	a := c.Auth
	return ingress.AuthConfig{Signer: s, AccessTTL: a.AccessTTL, RefreshTTL: a.RefreshTTL, CacheTTL: a.CacheTTL,
		LoginWindow: a.LoginWindow, LoginFailures: a.LoginFailures, LoginFailuresPerAddress: a.LoginFailuresPerAddress}
}

// busConfig is the nats section as the bus takes it. worker says the
// process runs agents only (`dawsos worker`) and so logs in with a worker
// account.
func (c Config) busConfig(worker bool) bus.Config {
	n := c.NATS
	return bus.Config{
		URL: n.URL, Listen: n.Listen, StoreDir: filepath.Join(c.DataDir, "nats"),
		SyncAlways: n.SyncAlways, QueueStorage: n.QueueStorage, MaxMemory: n.MaxMemory, MaxStore: n.MaxStore, Replicas: n.Replicas,
		Accounts: c.busAccounts(), TLSCertFile: n.TLSCertFile, TLSKeyFile: n.TLSKeyFile,
		User: n.User, Password: n.password, NKeySeedFile: n.NKeySeedFile, TLSCAFile: n.TLSCAFile, Worker: worker,
	}
}
