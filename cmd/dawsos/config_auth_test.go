package main

import (
	"strings"
	"testing"
)

// TestConfigAuthErrors: the auth, metrics and bus settings are checked
// like every other key, and secrets are refused in the file, naming the
// variable to use instead.
func TestConfigAuthErrors(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ name, body, want string }{
		{"jwt secret in the file", "auth:\n  jwt_secret: s3cret\n", "DAWSOS_AUTH_JWT_SECRET"},
		{"nats password in the file", "nats:\n  password: s3cret\n", "DAWSOS_NATS_PASSWORD"},
		{"account password in the file", "nats:\n  accounts:\n    worker:\n      password: s3cret\n", "DAWSOS_NATS_ACCOUNTS_WORKER_PASSWORD"},
		{"zero access ttl", "auth:\n  access_ttl: 0s\n", "auth.access_ttl"},
		{"access longer than refresh", "auth:\n  access_ttl: 2h\n  refresh_ttl: 1h\n", "auth.access_ttl"},
		{"no login failures", "auth:\n  login_failures: 0\n", "auth.login_failures"},
		{"metrics for whom", "server:\n  metrics: everyone\n", "server.metrics"},
		{"tls cert without key", "nats:\n  tls_cert_file: c.pem\n", "nats.tls_cert_file"},
		{"listener without accounts", "nats:\n  listen: 127.0.0.1:0\n", "nats.listen"},
		{"bad nkey", "nats:\n  accounts:\n    subscriber:\n      nkey: not-a-key\n", "nats.accounts.subscriber.nkey"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			_, err := loadConfig(writeConfig(t, c.body), nil)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("loadConfig(%q) = %v; want an error naming %q", c.body, err, c.want)
			}
			if strings.Contains(err.Error(), "s3cret") {
				t.Errorf("the error repeats the secret: %v", err)
			}
		})
	}
}

// TestConfigSecretsFromTheEnvironment: the secrets come from their
// variables into fields nothing prints.
func TestConfigSecretsFromTheEnvironment(t *testing.T) {
	t.Setenv(envJWTSecret, "a-jwt-secret-from-the-environment-0123")
	t.Setenv(envNATSPassword, "client-pw")
	t.Setenv(envAccountPassword("worker"), "worker-pw")
	cfg, err := loadConfig(writeConfig(t, "nats:\n  listen: 127.0.0.1:0\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Auth.secret != "a-jwt-secret-from-the-environment-0123" || cfg.NATS.password != "client-pw" || cfg.NATS.Accounts.Worker.password != "worker-pw" {
		t.Errorf("secrets not read: %+v", cfg.Auth)
	}
	accounts := cfg.busAccounts()
	if len(accounts) != 1 || accounts[0].Role != "worker" || accounts[0].Password != "worker-pw" {
		t.Errorf("bus accounts %+v; want the worker's", accounts)
	}
}
