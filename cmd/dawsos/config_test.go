package main

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestConfigFileMatchesDefaults(t *testing.T) {
	t.Parallel()
	cfg, err := loadConfig("../../config.yaml", nil)
	if err != nil {
		t.Fatalf("load config.yaml: %v", err)
	}
	if want := defaultConfig(); !reflect.DeepEqual(cfg, want) {
		t.Errorf("config.yaml and defaultConfig differ:\nfile:     %+v\ndefaults: %+v", cfg, want)
	}
}

func writeConfig(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "c.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestConfigErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, body, want string
	}{
		{"unknown top-level key", "colour: blue\n", "colour"},
		{"unknown nested key", "server:\n  lisen: x\n", "lisen"},
		{"bad duration", "breakers:\n  open_for: soon\n", "open_for"},
		{"invalid value", "breakers:\n  failures: 0\n", "breakers.failures"},
		{"bad capability name", "capabilities:\n  Bad*Name:\n    timeout: 1s\n", "capabilities"},
		{"bad log level", "log:\n  level: loud\n", "log.level"},
		{"zero request timeout", "server:\n  request_timeout: 0s\n", "server.request_timeout"},
		{"unknown plan cache mode", "database:\n  plan_cache_mode: sometimes\n", "database.plan_cache_mode"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			_, err := loadConfig(writeConfig(t, c.body), nil)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("loadConfig(%q) = %v; want an error naming %q", c.body, err, c.want)
			}
		})
	}
}

func TestConfigOverrides(t *testing.T) {
	p := writeConfig(t, "server:\n  listen: 127.0.0.1:1\ncapabilities:\n  portfolio.sector_allocation:\n    timeout: 3s\n")
	t.Setenv("DAWSOS_SERVER_LISTEN", "127.0.0.1:2")
	t.Setenv("DAWSOS_BREAKERS_OPEN_FOR", "2s")
	t.Setenv("DAWSOS_TEST_DATABASE_URL", "ignored: not a config key")
	cfg, err := loadConfig(p, map[string]any{"data_dir": "/tmp/x"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Server.Listen != "127.0.0.1:2" || cfg.Breakers.OpenFor != 2*time.Second || cfg.DataDir != "/tmp/x" {
		t.Errorf("overrides not applied: listen %s open_for %s data_dir %s", cfg.Server.Listen, cfg.Breakers.OpenFor, cfg.DataDir)
	}
	if got := cfg.step("portfolio.sector_allocation"); got.Timeout != 3*time.Second || got.MaxAttempts != 3 {
		t.Errorf("capability override: got %+v", got)
	}
}

func TestConfigProviders(t *testing.T) {
	keyFile := filepath.Join(t.TempDir(), "fred.key")
	if err := os.WriteFile(keyFile, []byte("  fred-secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p := writeConfig(t, "providers:\n  fred:\n    key_file: "+keyFile+"\n  newsapi:\n    staleness: 5m\n")
	t.Setenv("DAWSOS_PROVIDERS_FMP_KEY", "fmp-secret")
	t.Setenv("DAWSOS_PROVIDERS_FMP_BASE_URL", "http://127.0.0.1:9999")
	t.Setenv("DAWSOS_PROVIDERS_FMP_ALLOWED_HOSTS", "127.0.0.1,financialmodelingprep.com")
	t.Setenv("DAWSOS_PROVIDERS_FMP_ALLOW_LOOPBACK", "127.0.0.1:9999")
	cfg, err := loadConfig(p, nil)
	if err != nil {
		t.Fatal(err)
	}
	ps := cfg.agentProviders()
	fmp, fred, news := ps["fmp"], ps["fred"], ps["newsapi"]
	if fmp.Key != "fmp-secret" || fmp.BaseURL != "http://127.0.0.1:9999" || len(fmp.AllowedHosts) != 2 || fmp.AllowLoopback[0] != "127.0.0.1:9999" {
		t.Errorf("fmp from the environment: %+v hosts %v loopback %v", fmp, fmp.AllowedHosts, fmp.AllowLoopback)
	}
	if fred.Key != "fred-secret" || news.Key != "" || news.Staleness != 5*time.Minute || fmp.RatePerMinute != 300 || news.RatePerMinute != 30 {
		t.Errorf("fred key from its file (trimmed), newsapi without a key: fred %v newsapi %v", fred, news)
	}
	if ps["anthropic"].Model == "" || len(ps) != 5 {
		t.Errorf("providers %v", ps)
	}
	if s := fmt.Sprintf("%v %+v", cfg, cfg); strings.Contains(s, "fmp-secret") || strings.Contains(s, "fred-secret") {
		t.Errorf("printing the configuration shows a key")
	}
}

func TestConfigProviderErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, body, want string
	}{
		{"key in the file", "providers:\n  fmp:\n    key: abc\n", "providers.fmp.key: keys are never read from the configuration; set DAWSOS_PROVIDERS_FMP_KEY"},
		{"unknown provider", "providers:\n  yahoo:\n    base_url: https://x\n", "yahoo"},
		{"plain http", "providers:\n  fred:\n    base_url: http://api.stlouisfed.org\n", "providers.fred"},
		{"host off the list", "providers:\n  newsapi:\n    base_url: https://evil.example\n", "allowed_hosts"},
		{"loopback entry not loopback", "providers:\n  fmp:\n    allow_loopback: [10.0.0.1:80]\n", "allow_loopback"},
		{"zero rate", "providers:\n  fmp:\n    rate_per_minute: 0\n", "providers.fmp.rate_per_minute"},
		{"missing key file", "providers:\n  polygon:\n    key_file: /nonexistent/polygon.key\n", "providers.polygon.key_file"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			_, err := loadConfig(writeConfig(t, c.body), nil)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("loadConfig(%q) = %v; want an error naming %q", c.body, err, c.want)
			}
			if strings.Contains(err.Error(), "abc") {
				t.Errorf("the error shows the key: %v", err)
			}
		})
	}
}
