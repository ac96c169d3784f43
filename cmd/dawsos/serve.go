package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/dawsos/dawsos/ingress"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func newServeCmd(g *globals) *cobra.Command {
	var listen, dataDir, dbURL, natsListen, agentList string
	var demo bool
	var demoSeed int64
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the HTTP API, the orchestrator and the agents in one process",
		Long: `serve runs everything in one process: the HTTP API, the orchestrator, and
the agents over an embedded NATS server. With no database.url it starts a
private PostgreSQL from the installed server binaries, with its data under
data_dir, and stops it on shutdown. --demo loads the demo dataset first when
the database has no portfolio yet.

--agents none runs the API and orchestrator only (agents then run in
'dawsos worker' processes against nats.url); --agents a,b hosts only those.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ov := map[string]any{}
			setIf(ov, "server.listen", listen)
			setIf(ov, "data_dir", dataDir)
			setIf(ov, "database.url", dbURL)
			setIf(ov, "nats.listen", natsListen)
			cfg, log, err := g.load(ov)
			if err != nil {
				return err
			}
			signer, err := cfg.Auth.signer(demo, log)
			if err != nil {
				return &exitError{code: 2, err: err}
			}
			// Take the port first: a port in use fails before anything
			// else starts.
			ln, err := net.Listen("tcp", cfg.Server.Listen)
			if err != nil {
				if errors.Is(err, syscall.EADDRINUSE) {
					return &exitError{code: 1, err: fmt.Errorf("server.listen %s is already in use: stop the other process or choose another address", cfg.Server.Listen)}
				}
				return &exitError{code: 1, err: fmt.Errorf("server.listen %s: %w", cfg.Server.Listen, err)}
			}
			defer ln.Close()
			ctx := cmd.Context()
			a, err := startApp(ctx, cfg, log, startOptions{agents: parseAgents(agentList), orchestrator: true})
			var ee *exitError
			if errors.As(err, &ee) {
				return ee
			}
			if err != nil {
				return &exitError{code: 1, err: err}
			}
			defer a.stop()
			var demoUsers map[string]string
			if demo {
				if demoUsers, err = seedDemoIfEmpty(ctx, a, demoSeed); err != nil {
					return &exitError{code: 1, err: fmt.Errorf("demo data: %w", err)}
				}
			}
			var breakers ingress.BreakerSource
			if a.breakers != nil {
				breakers = a.breakers
			}
			srv, err := ingress.New(ingress.Deps{
				Engine: a.engine, Patterns: a.patterns, Registry: a.registry,
				Catalog: a.catalog, Breakers: breakers,
				DB: a.db, Bus: a.bus, Gatherer: a.promReg, Registerer: a.promReg, Logger: log,
				Probes: map[string]func() error{"database_supervision": a.databaseProbe},
			}, ingress.Config{
				BodyLimit: cfg.Server.BodyLimit, WaitMax: cfg.Server.WaitMax, BatchMax: cfg.Server.BatchMax, RequestTimeout: cfg.Server.RequestTimeout, Version: version,
				Auth: cfg.ingressAuth(signer), Metrics: cfg.Server.Metrics, DisableConsole: !cfg.Console.Enabled,
			})
			if err != nil {
				return &exitError{code: 1, err: err}
			}
			errc := make(chan error, 1)
			go func() { errc <- srv.Serve(ln) }()
			url := "http://" + ln.Addr().String()
			log.Info("dawsos is serving", "url", url, "nats", a.bus.ClientURL(), "data_dir", cfg.DataDir)
			fmt.Fprintf(cmd.OutOrStdout(), "DawsOS is serving on %s\n", url)
			if demo {
				printDemoLogins(cmd.OutOrStdout(), url, demoUsers)
			}
			select {
			case <-ctx.Done():
			case err := <-errc:
				if err != nil {
					return &exitError{code: 1, err: err}
				}
			case err := <-a.fatal:
				return &exitError{code: 1, err: err}
			}
			sctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			if err := srv.Shutdown(sctx); err != nil {
				log.Warn("shut down http", "err", err)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&listen, "listen", "", "HTTP address (server.listen)")
	f.StringVar(&dataDir, "data-dir", "", "data directory (data_dir)")
	f.StringVar(&dbURL, "database-url", "", "PostgreSQL URL; empty runs a private server (database.url)")
	f.StringVar(&natsListen, "nats-listen", "", "open a NATS TCP listener, e.g. 127.0.0.1:4222 (nats.listen)")
	f.StringVar(&agentList, "agents", "all", "agents to host: all, none, or a comma-separated list")
	f.BoolVar(&demo, "demo", false, "load the demo dataset when the database has no portfolio")
	f.Int64Var(&demoSeed, "demo-seed", 1, "seed of the demo dataset")
	return cmd
}

func newWorkerCmd(g *globals) *cobra.Command {
	var agentList string
	cmd := &cobra.Command{
		Use:   "worker",
		Short: "Host agents only, against an external NATS (nats.url) and PostgreSQL (database.url)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, log, err := g.load(nil)
			if err != nil {
				return err
			}
			if cfg.NATS.URL == "" || cfg.Database.URL == "" {
				return &exitError{code: 2, err: errors.New("worker needs nats.url (DAWSOS_NATS_URL) and database.url (DAWSOS_DATABASE_URL) of the serving process")}
			}
			a, err := startApp(cmd.Context(), cfg, log, startOptions{agents: parseAgents(agentList)})
			var ee *exitError
			if errors.As(err, &ee) {
				return ee
			}
			if err != nil {
				return &exitError{code: 1, err: err}
			}
			defer a.stop()
			log.Info("worker running", "agents", agentList)
			select {
			case <-cmd.Context().Done():
			case err := <-a.fatal:
				return &exitError{code: 1, err: err}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&agentList, "agents", "all", "agents to host: all or a comma-separated list")
	return cmd
}

// parseAgents turns the --agents flag into startOptions.agents.
func parseAgents(s string) []string {
	switch strings.TrimSpace(s) {
	case "", "all":
		return nil
	case "none":
		return []string{}
	}
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func setIf(m map[string]any, key, val string) {
	if val != "" {
		m[key] = val
	}
}
