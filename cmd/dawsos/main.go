// Command dawsos is the DawsOS portfolio-intelligence engine: one binary
// that serves the HTTP API, runs the orchestrator and the agents over an
// embedded NATS, and offers the operator's commands (migrate, seed, run,
// dlq, patterns lint, bench).
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

// exitError carries an exit code out of a command.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	root := newRootCmd()
	err := root.ExecuteContext(ctx)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "dawsos:", err)
		var ee *exitError
		if errors.As(err, &ee) {
			os.Exit(ee.code)
		}
		os.Exit(1)
	}
}

// globals are the flags every command shares.
type globals struct {
	configPath string
	logLevel   string
}

func newRootCmd() *cobra.Command {
	g := &globals{}
	root := &cobra.Command{
		Use:           "dawsos",
		Short:         "DawsOS runs portfolio analyses (patterns) over an embedded NATS and PostgreSQL",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().StringVar(&g.configPath, "config", "", "configuration file (default ./config.yaml when present)")
	root.PersistentFlags().StringVar(&g.logLevel, "log-level", "", "log level: debug, info, warn, error (overrides log.level)")
	root.AddCommand(
		newServeCmd(g),
		newWorkerCmd(g),
		newMigrateCmd(g),
		newSeedCmd(g),
		newPatternsCmd(g),
		newCapabilitiesCmd(g),
	)
	for _, c := range registeredCommands(g) {
		root.AddCommand(c)
	}
	return root
}

// commandFactories are the commands declared in their own files (run, dlq,
// bench, import), each added from an init function.
var commandFactories []func(*globals) *cobra.Command

func registeredCommands(g *globals) []*cobra.Command {
	out := make([]*cobra.Command, 0, len(commandFactories))
	for _, f := range commandFactories {
		out = append(out, f(g))
	}
	return out
}

// load reads the configuration with flag overrides and sets up logging.
func (g *globals) load(overrides map[string]any) (Config, *slog.Logger, error) {
	if g.logLevel != "" {
		if overrides == nil {
			overrides = map[string]any{}
		}
		overrides["log.level"] = g.logLevel
	}
	cfg, err := loadConfig(g.configPath, overrides)
	if err != nil {
		return cfg, nil, &exitError{code: 2, err: err}
	}
	return cfg, newLogger(cfg.Log), nil
}

func newLogger(c LogConfig) *slog.Logger {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(c.Level))
	opts := &slog.HandlerOptions{Level: lvl}
	var h slog.Handler = slog.NewTextHandler(os.Stderr, opts)
	if c.Format == "json" {
		h = slog.NewJSONHandler(os.Stderr, opts)
	}
	l := slog.New(h)
	slog.SetDefault(l)
	return l
}
