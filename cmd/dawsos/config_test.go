package main

import (
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
