// Command natsnode runs one node of a NATS cluster with JetStream, for the
// end-to-end test of DawsOS on a cluster: a separate process, so that the
// test can kill it with SIGKILL as an operator's outage would. It prints
// "ready" once it accepts clients and runs until it is signalled.
package main

import (
	"flag"
	"fmt"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

func main() {
	name := flag.String("name", "n1", "server name")
	port := flag.Int("port", 0, "client port on 127.0.0.1")
	clusterPort := flag.Int("cluster-port", 0, "cluster (route) port on 127.0.0.1")
	routes := flag.String("routes", "", "comma-separated nats-route:// URLs of the other nodes")
	store := flag.String("store", "", "JetStream store directory")
	flag.Parse()
	o := &server.Options{
		ServerName: *name, Host: "127.0.0.1", Port: *port,
		JetStream: true, StoreDir: *store,
		Cluster: server.ClusterOpts{Name: "dawsos-test", Host: "127.0.0.1", Port: *clusterPort},
		NoSigs:  true,
	}
	for _, r := range strings.Split(*routes, ",") {
		if r == "" {
			continue
		}
		u, err := url.Parse(r)
		if err != nil {
			fmt.Fprintln(os.Stderr, "route:", err)
			os.Exit(2)
		}
		o.Routes = append(o.Routes, u)
	}
	s, err := server.NewServer(o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "natsnode:", err)
		os.Exit(1)
	}
	go s.Start()
	if !s.ReadyForConnections(30 * time.Second) {
		fmt.Fprintln(os.Stderr, "natsnode: not ready in 30s")
		os.Exit(1)
	}
	fmt.Println("ready")
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	<-sig
	s.Shutdown()
	s.WaitForShutdown()
}
