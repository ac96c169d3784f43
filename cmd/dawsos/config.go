package main

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"sort"
	"strings"
	"time"

	"github.com/go-viper/mapstructure/v2"
	"github.com/knadh/koanf/parsers/yaml"
	"github.com/knadh/koanf/providers/confmap"
	"github.com/knadh/koanf/providers/file"
	"github.com/knadh/koanf/v2"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/ingress"
	"github.com/dawsos/dawsos/orchestrator"
)

// Config is the whole configuration. config.yaml at the repository root
// documents every key; TestConfigFileMatchesDefaults keeps the two equal.
type Config struct {
	DataDir      string                      `koanf:"data_dir"`
	Log          LogConfig                   `koanf:"log"`
	Server       ServerConfig                `koanf:"server"`
	Database     DatabaseConfig              `koanf:"database"`
	NATS         NATSConfig                  `koanf:"nats"`
	Breakers     BreakersConfig              `koanf:"breakers"`
	Steps        StepsConfig                 `koanf:"steps"`
	Orchestrator OrchestratorConfig          `koanf:"orchestrator"`
	Patterns     PatternsConfig              `koanf:"patterns"`
	Analytics    AnalyticsConfig             `koanf:"analytics"`
	Runtime      RuntimeConfig               `koanf:"runtime"`
	Capabilities map[string]CapabilityConfig `koanf:"capabilities"`
	Auth         AuthConfig                  `koanf:"auth"`
	Providers    ProvidersConfig             `koanf:"providers"`
	Console      ConsoleConfig               `koanf:"console"`
}

// ConsoleConfig is the web console served at /.
type ConsoleConfig struct {
	Enabled bool `koanf:"enabled"`
}

// LogConfig selects the log level and format.
type LogConfig struct {
	Level  string `koanf:"level"`
	Format string `koanf:"format"`
}

// ServerConfig is the HTTP ingress.
type ServerConfig struct {
	Listen         string        `koanf:"listen"`
	BodyLimit      int           `koanf:"body_limit"`
	WaitMax        time.Duration `koanf:"wait_max"`
	BatchMax       int           `koanf:"batch_max"`
	RequestTimeout time.Duration `koanf:"request_timeout"`
	// Metrics says who may scrape /metrics without a token: loopback,
	// open or token.
	Metrics string `koanf:"metrics"`
}

// DatabaseConfig is the one pool and the managed server.
type DatabaseConfig struct {
	URL            string        `koanf:"url"`
	MaxConns       int32         `koanf:"max_conns"`
	AcquireTimeout time.Duration `koanf:"acquire_timeout"`
	PlanCacheMode  string        `koanf:"plan_cache_mode"`
	BinDir         string        `koanf:"bin_dir"`
	ManagedPort    int           `koanf:"managed_port"`
}

// NATSConfig is the bus.
type NATSConfig struct {
	URL          string `koanf:"url"`
	Listen       string `koanf:"listen"`
	SyncAlways   bool   `koanf:"sync_always"`
	QueueStorage string `koanf:"queue_storage"`
	MaxMemory    int64  `koanf:"max_memory"`
	MaxStore     int64  `koanf:"max_store"`
	Replicas     int    `koanf:"replicas"`
	// MaxMessageBytes bounds the step requests and results the engine
	// reads; a larger one is dead-lettered with its size and a prefix.
	MaxMessageBytes int `koanf:"max_message_bytes"`
	// Accounts, TLSCertFile and TLSKeyFile secure the listener; User,
	// NKeySeedFile and TLSCAFile (and DAWSOS_NATS_PASSWORD) are how this
	// process logs in to nats.url.
	Accounts     NATSAccounts `koanf:"accounts"`
	TLSCertFile  string       `koanf:"tls_cert_file"`
	TLSKeyFile   string       `koanf:"tls_key_file"`
	User         string       `koanf:"user"`
	NKeySeedFile string       `koanf:"nkey_seed_file"`
	TLSCAFile    string       `koanf:"tls_ca_file"`

	password string
}

// BreakersConfig is the breaker rule.
type BreakersConfig struct {
	Failures int           `koanf:"failures"`
	OpenFor  time.Duration `koanf:"open_for"`
}

// StepsConfig holds the defaults every capability inherits.
type StepsConfig struct {
	Timeout        time.Duration `koanf:"timeout"`
	MaxAttempts    int           `koanf:"max_attempts"`
	InitialBackoff time.Duration `koanf:"initial_backoff"`
	Concurrency    int           `koanf:"concurrency"`
	// MaxInFlight bounds the steps of one capability in flight across
	// every process hosting it (its consumer's MaxAckPending); 0 is
	// Concurrency, right for one process.
	MaxInFlight int           `koanf:"max_in_flight"`
	CancelGrace time.Duration `koanf:"cancel_grace"`
}

// CapabilityConfig overrides the step defaults for one capability.
type CapabilityConfig struct {
	Timeout     time.Duration `koanf:"timeout"`
	MaxAttempts int           `koanf:"max_attempts"`
	Concurrency int           `koanf:"concurrency"`
	MaxInFlight int           `koanf:"max_in_flight"`
}

// OrchestratorConfig tunes the orchestrator.
type OrchestratorConfig struct {
	RecoveryInterval  time.Duration `koanf:"recovery_interval"`
	ResultConcurrency int           `koanf:"result_concurrency"`
}

// PatternsConfig names an extra directory of pattern files.
type PatternsConfig struct {
	Dir string `koanf:"dir"`
}

// RuntimeConfig tunes the Go runtime of the process.
type RuntimeConfig struct {
	// GCPercent is the garbage collector's target (GOGC); the GOGC
	// variable, when set, wins.
	GCPercent int `koanf:"gc_percent"`
}

// AnalyticsConfig holds the conventions of the analytics.
type AnalyticsConfig struct {
	RiskFreeRate float64 `koanf:"risk_free_rate"`
}

// ProvidersConfig holds the outside providers, one section each.
type ProvidersConfig struct {
	FMP       ProviderConfig `koanf:"fmp"`
	Polygon   ProviderConfig `koanf:"polygon"`
	FRED      ProviderConfig `koanf:"fred"`
	NewsAPI   ProviderConfig `koanf:"newsapi"`
	Anthropic ProviderConfig `koanf:"anthropic"`
}

// ProviderConfig is one provider. Its key is never read from the file:
// it comes from DAWSOS_PROVIDERS_<NAME>_KEY or from the file KeyFile
// names, and lives behind an unexported pointer, which fmt prints as an
// address, so printing the configuration never shows it.
type ProviderConfig struct {
	BaseURL       string        `koanf:"base_url"`
	KeyFile       string        `koanf:"key_file"`
	Model         string        `koanf:"model"`
	RatePerMinute int           `koanf:"rate_per_minute"`
	Timeout       time.Duration `koanf:"timeout"`
	AllowedHosts  []string      `koanf:"allowed_hosts"`
	AllowLoopback []string      `koanf:"allow_loopback"`
	Staleness     time.Duration `koanf:"staleness"`
	MaxAttempts   int           `koanf:"max_attempts"`
	MaxBodyBytes  int64         `koanf:"max_body_bytes"`

	key *string
}

// byName maps each provider name (agents.ProviderNames) to its section.
func (p *ProvidersConfig) byName() map[string]*ProviderConfig {
	return map[string]*ProviderConfig{
		agents.ProviderFMP: &p.FMP, agents.ProviderPolygon: &p.Polygon, agents.ProviderFRED: &p.FRED,
		agents.ProviderNewsAPI: &p.NewsAPI, agents.ProviderAnthropic: &p.Anthropic,
	}
}

func defaultProvider(baseURL, host string, perMinute int, timeout, staleness time.Duration) ProviderConfig {
	return ProviderConfig{BaseURL: baseURL, RatePerMinute: perMinute, Timeout: timeout, AllowedHosts: []string{host},
		AllowLoopback: []string{}, Staleness: staleness, MaxAttempts: 3, MaxBodyBytes: 8 << 20}
}

func defaultConfig() Config {
	return Config{
		DataDir:  "./var",
		Log:      LogConfig{Level: "info", Format: "text"},
		Server:   ServerConfig{Listen: "127.0.0.1:8080", BodyLimit: 1 << 20, WaitMax: 60 * time.Second, BatchMax: 1000, RequestTimeout: 30 * time.Second, Metrics: ingress.MetricsLoopback},
		Database: DatabaseConfig{MaxConns: 16, AcquireTimeout: 5 * time.Second, PlanCacheMode: "force_custom_plan"},
		NATS:     NATSConfig{QueueStorage: "file", MaxMemory: 256 << 20, MaxStore: 8 << 30, Replicas: 1, MaxMessageBytes: 1 << 20},
		Breakers: BreakersConfig{Failures: 5, OpenFor: 60 * time.Second},
		Console:  ConsoleConfig{Enabled: true},
		Steps: StepsConfig{
			Timeout: 30 * time.Second, MaxAttempts: 3, InitialBackoff: time.Second, Concurrency: 4, CancelGrace: 5 * time.Second,
		},
		Orchestrator: OrchestratorConfig{RecoveryInterval: 5 * time.Second, ResultConcurrency: 16},
		Analytics:    AnalyticsConfig{RiskFreeRate: 0.04},
		Runtime:      RuntimeConfig{GCPercent: orchestrator.GCPercent},
		Capabilities: map[string]CapabilityConfig{},
		Auth: AuthConfig{AccessTTL: 15 * time.Minute, RefreshTTL: 30 * 24 * time.Hour, CacheTTL: 2 * time.Second,
			LoginWindow: 15 * time.Minute, LoginFailures: 5, LoginFailuresPerAddress: 20},
		Providers: ProvidersConfig{
			FMP:     defaultProvider("https://financialmodelingprep.com", "financialmodelingprep.com", 300, 10*time.Second, 24*time.Hour),
			Polygon: defaultProvider("https://api.polygon.io", "api.polygon.io", 5, 10*time.Second, 24*time.Hour),
			FRED:    defaultProvider("https://api.stlouisfed.org", "api.stlouisfed.org", 120, 10*time.Second, 24*time.Hour),
			NewsAPI: defaultProvider("https://newsapi.org", "newsapi.org", 30, 10*time.Second, time.Hour),
			Anthropic: func() ProviderConfig {
				p := defaultProvider("https://api.anthropic.com", "api.anthropic.com", 50, 60*time.Second, 0)
				p.Model = "claude-sonnet-4-5"
				return p
			}(),
		},
	}
}

// loadConfig reads the defaults, then the file (when path is non-empty, or
// ./config.yaml when it exists), then DAWSOS_* variables, then overrides
// (flags). Unknown keys are errors that name the key.
func loadConfig(path string, overrides map[string]any) (Config, error) {
	k := koanf.New(".")
	explicit := path != ""
	if !explicit {
		if _, err := os.Stat("config.yaml"); err == nil {
			path = "config.yaml"
		}
	}
	if path != "" {
		if err := k.Load(file.Provider(path), yaml.Parser()); err != nil {
			return Config{}, fmt.Errorf("config %s: %w", path, err)
		}
	}
	env, err := envOverrides(os.Environ())
	if err != nil {
		return Config{}, err
	}
	if err := k.Load(confmap.Provider(env, "."), nil); err != nil {
		return Config{}, fmt.Errorf("environment: %w", err)
	}
	if len(overrides) > 0 {
		if err := k.Load(confmap.Provider(overrides, "."), nil); err != nil {
			return Config{}, fmt.Errorf("flags: %w", err)
		}
	}
	for _, n := range agents.ProviderNames {
		if k.Exists("providers." + n + ".key") {
			return Config{}, fmt.Errorf("config key providers.%s.key: keys are never read from the configuration; set %s or providers.%s.key_file",
				n, agents.ProviderKeyEnv(n), n)
		}
	}
	for key, env := range secretKeys() {
		if k.Exists(key) {
			return Config{}, fmt.Errorf("config key %s: secrets are never read from the configuration; set %s", key, env)
		}
	}
	cfg := defaultConfig()
	if err := k.UnmarshalWithConf("", &cfg, koanf.UnmarshalConf{DecoderConfig: &mapstructure.DecoderConfig{
		ErrorUnused:      true,
		WeaklyTypedInput: true,
		DecodeHook: mapstructure.ComposeDecodeHookFunc(mapstructure.StringToTimeDurationHookFunc(),
			mapstructure.StringToSliceHookFunc(",")),
		Result:  &cfg,
		TagName: "koanf",
	}}); err != nil {
		where := "config"
		if path != "" {
			where = "config " + path
		}
		return Config{}, fmt.Errorf("%s: %s", where, strings.ReplaceAll(err.Error(), "\n", " "))
	}
	if err := cfg.Providers.readKeys(os.Environ()); err != nil {
		return Config{}, err
	}
	if err := cfg.readSecrets(os.Environ()); err != nil {
		return Config{}, err
	}
	if err := cfg.validate(); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// readKeys takes each provider's key from DAWSOS_PROVIDERS_<NAME>_KEY, or
// else from its key_file (surrounding white space trimmed). An unreadable
// or empty key file is an error naming the key, never the file's content.
func (p *ProvidersConfig) readKeys(environ []string) error {
	env := map[string]string{}
	for _, kv := range environ {
		if name, val, ok := strings.Cut(kv, "="); ok {
			env[name] = val
		}
	}
	var errs []error
	for _, n := range agents.ProviderNames {
		pc := p.byName()[n]
		if v := strings.TrimSpace(env[agents.ProviderKeyEnv(n)]); v != "" {
			pc.key = &v
			continue
		}
		if pc.KeyFile == "" {
			continue
		}
		b, err := os.ReadFile(pc.KeyFile)
		if err != nil {
			var pe *os.PathError
			if errors.As(err, &pe) {
				err = pe.Err
			}
			errs = append(errs, fmt.Errorf("config key providers.%s.key_file: cannot read %s: %v", n, pc.KeyFile, err))
			continue
		}
		k := strings.TrimSpace(string(b))
		if k == "" {
			errs = append(errs, fmt.Errorf("config key providers.%s.key_file: %s is empty", n, pc.KeyFile))
			continue
		}
		pc.key = &k
	}
	return errors.Join(errs...)
}

// agentProviders is the providers as agents.Deps carries them.
func (c Config) agentProviders() map[string]agents.Provider {
	out := map[string]agents.Provider{}
	for n, pc := range c.Providers.byName() {
		out[n] = pc.provider(n)
	}
	return out
}

func (pc ProviderConfig) provider(name string) agents.Provider {
	key := ""
	if pc.key != nil {
		key = *pc.key
	}
	return agents.Provider{
		Name: name, BaseURL: pc.BaseURL, Key: key, Model: pc.Model, RatePerMinute: pc.RatePerMinute, Timeout: pc.Timeout,
		AllowedHosts: pc.AllowedHosts, AllowLoopback: pc.AllowLoopback, Staleness: pc.Staleness,
		MaxAttempts: pc.MaxAttempts, MaxBodyBytes: pc.MaxBodyBytes,
	}
}

// envKeys maps DAWSOS_<KEY> to every scalar key of the configuration:
// server.listen is DAWSOS_SERVER_LISTEN, data_dir is DAWSOS_DATA_DIR.
func envKeys() map[string]string {
	out := map[string]string{}
	var walk func(t reflect.Type, prefix string)
	walk = func(t reflect.Type, prefix string) {
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			tag := f.Tag.Get("koanf")
			key := tag
			if prefix != "" {
				key = prefix + "." + tag
			}
			switch {
			case f.Type.Kind() == reflect.Struct:
				walk(f.Type, key)
			case f.Type.Kind() == reflect.Map:
				// capabilities.<name>.* is set in the file only.
			default:
				out["DAWSOS_"+strings.ToUpper(strings.ReplaceAll(key, ".", "_"))] = key
			}
		}
	}
	walk(reflect.TypeOf(Config{}), "")
	return out
}

// envOverrides picks the DAWSOS_* variables that name configuration keys.
// Variables that name no key are ignored, since other DAWSOS_ variables
// exist (DAWSOS_TEST_DATABASE_URL for the tests).
func envOverrides(environ []string) (map[string]any, error) {
	keys := envKeys()
	out := map[string]any{}
	for _, kv := range environ {
		name, val, ok := strings.Cut(kv, "=")
		if !ok || !strings.HasPrefix(name, "DAWSOS_") {
			continue
		}
		if key, known := keys[name]; known {
			out[key] = val
		}
	}
	return out, nil
}

func (c Config) validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("config key %s: %s", key, fmt.Sprintf(format, args...)))
	}
	if c.DataDir == "" {
		bad("data_dir", "must not be empty")
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		bad("log.level", "%q is not one of debug, info, warn, error", c.Log.Level)
	}
	switch c.Log.Format {
	case "text", "json":
	default:
		bad("log.format", "%q is not text or json", c.Log.Format)
	}
	if c.Server.Listen == "" {
		bad("server.listen", "must not be empty")
	}
	if c.Server.BodyLimit < 1024 {
		bad("server.body_limit", "%d is below 1024 bytes", c.Server.BodyLimit)
	}
	if c.Server.RequestTimeout <= 0 {
		bad("server.request_timeout", "must be positive")
	}
	if c.Database.MaxConns < 2 {
		bad("database.max_conns", "%d is below 2", c.Database.MaxConns)
	}
	if c.Database.AcquireTimeout <= 0 {
		bad("database.acquire_timeout", "must be positive")
	}
	switch c.Database.PlanCacheMode {
	case "auto", "force_custom_plan", "force_generic_plan":
	default:
		bad("database.plan_cache_mode", "%q is not auto, force_custom_plan or force_generic_plan", c.Database.PlanCacheMode)
	}
	if c.NATS.QueueStorage != "file" && c.NATS.QueueStorage != "memory" {
		bad("nats.queue_storage", "%q is not file or memory", c.NATS.QueueStorage)
	}
	if c.NATS.Replicas < 1 || c.NATS.Replicas > 5 {
		bad("nats.replicas", "%d is not between 1 and 5", c.NATS.Replicas)
	}
	if c.NATS.MaxMessageBytes < 1024 || c.NATS.MaxMessageBytes > 64<<20 {
		bad("nats.max_message_bytes", "%d is not between 1024 and 67108864", c.NATS.MaxMessageBytes)
	}
	if c.Breakers.Failures < 1 {
		bad("breakers.failures", "%d is below 1", c.Breakers.Failures)
	}
	if c.Breakers.OpenFor <= 0 {
		bad("breakers.open_for", "must be positive")
	}
	if c.Steps.Timeout <= 0 {
		bad("steps.timeout", "must be positive")
	}
	if c.Steps.MaxAttempts < 1 {
		bad("steps.max_attempts", "%d is below 1", c.Steps.MaxAttempts)
	}
	if c.Steps.InitialBackoff <= 0 {
		bad("steps.initial_backoff", "must be positive")
	}
	if c.Steps.Concurrency < 1 {
		bad("steps.concurrency", "%d is below 1", c.Steps.Concurrency)
	}
	if c.Steps.MaxInFlight < 0 {
		bad("steps.max_in_flight", "must not be negative")
	}
	if c.Steps.CancelGrace <= 0 {
		bad("steps.cancel_grace", "must be positive")
	}
	if c.Orchestrator.RecoveryInterval <= 0 {
		bad("orchestrator.recovery_interval", "must be positive")
	}
	if c.Orchestrator.ResultConcurrency < 1 {
		bad("orchestrator.result_concurrency", "%d is below 1", c.Orchestrator.ResultConcurrency)
	}
	if c.Server.BatchMax < 1 || c.Server.BatchMax > 10000 {
		bad("server.batch_max", "%d is not between 1 and 10000", c.Server.BatchMax)
	}
	if c.Runtime.GCPercent < 25 {
		bad("runtime.gc_percent", "%d is below 25", c.Runtime.GCPercent)
	}
	if c.Analytics.RiskFreeRate < -0.5 || c.Analytics.RiskFreeRate > 1 {
		bad("analytics.risk_free_rate", "%v is not a plausible annual rate", c.Analytics.RiskFreeRate)
	}
	names := make([]string, 0, len(c.Capabilities))
	for n := range c.Capabilities {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		cc := c.Capabilities[n]
		if !agents.NamePattern.MatchString(n) {
			bad("capabilities."+n, "%q is not a capability name", n)
		}
		if cc.Timeout < 0 {
			bad("capabilities."+n+".timeout", "must not be negative")
		}
		if cc.MaxAttempts < 0 {
			bad("capabilities."+n+".max_attempts", "must not be negative")
		}
		if cc.Concurrency < 0 {
			bad("capabilities."+n+".concurrency", "must not be negative")
		}
		if cc.MaxInFlight < 0 {
			bad("capabilities."+n+".max_in_flight", "must not be negative")
		}
	}
	for _, n := range agents.ProviderNames {
		pc := c.Providers.byName()[n]
		key := "providers." + n
		if pc.RatePerMinute < 1 {
			bad(key+".rate_per_minute", "%d is below 1", pc.RatePerMinute)
		}
		if pc.Timeout <= 0 {
			bad(key+".timeout", "must be positive")
		}
		if pc.Staleness < 0 {
			bad(key+".staleness", "must not be negative")
		}
		if pc.MaxAttempts < 1 || pc.MaxAttempts > 10 {
			bad(key+".max_attempts", "%d is not between 1 and 10", pc.MaxAttempts)
		}
		if pc.MaxBodyBytes < 1024 || pc.MaxBodyBytes > 256<<20 {
			bad(key+".max_body_bytes", "%d is not between 1024 and 268435456", pc.MaxBodyBytes)
		}
		if err := agents.CheckProvider(pc.provider(n)); err != nil {
			bad(key, "%s", strings.ReplaceAll(err.Error(), "\n", "; "))
		}
	}
	c.validateAuth(bad)
	return errors.Join(errs...)
}

// step returns the effective settings of one capability.
func (c Config) step(capability string) CapabilityConfig {
	out := CapabilityConfig{Timeout: c.Steps.Timeout, MaxAttempts: c.Steps.MaxAttempts, Concurrency: c.Steps.Concurrency,
		MaxInFlight: c.Steps.MaxInFlight}
	if o, ok := c.Capabilities[capability]; ok {
		if o.Timeout > 0 {
			out.Timeout = o.Timeout
		}
		if o.MaxAttempts > 0 {
			out.MaxAttempts = o.MaxAttempts
		}
		if o.Concurrency > 0 {
			out.Concurrency = o.Concurrency
		}
		if o.MaxInFlight > 0 {
			out.MaxInFlight = o.MaxInFlight
		}
	}
	return out
}

// stepSettings is step as the orchestrator's adapter wants it.
func (c Config) stepSettings(capability string) orchestrator.StepSettings {
	s := c.step(capability)
	return orchestrator.StepSettings{Timeout: s.Timeout, MaxAttempts: s.MaxAttempts, Concurrency: s.Concurrency, MaxInFlight: s.MaxInFlight}
}

// stepDeadline is how long a dispatched step may take before the recovery
// loop redispatches it: every attempt with its cancel grace, every
// back-off, and a margin.
func (c Config) stepDeadline(capability string) time.Duration {
	s := c.step(capability)
	backoff := c.Steps.InitialBackoff * time.Duration(1<<s.MaxAttempts)
	return time.Duration(s.MaxAttempts)*(s.Timeout+c.Steps.CancelGrace) + backoff + 30*time.Second
}
