package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

var (
	natsNodeOnce sync.Once
	natsNodePath string
	natsNodeErr  error
)

// natsNodeBinary builds testdata/natsnode, one NATS cluster node per
// process, once per test binary.
func natsNodeBinary(t *testing.T) string {
	t.Helper()
	natsNodeOnce.Do(func() {
		dir, err := os.MkdirTemp("", "dawsos-natsnode-")
		if err != nil {
			natsNodeErr = err
			return
		}
		natsNodePath = filepath.Join(dir, "natsnode")
		out, err := exec.Command("go", "build", "-o", natsNodePath, "./testdata/natsnode").CombinedOutput()
		if err != nil {
			natsNodeErr = fmt.Errorf("go build natsnode: %v\n%s", err, out)
		}
	})
	if natsNodeErr != nil {
		t.Fatal(natsNodeErr)
	}
	return natsNodePath
}

type natsNode struct {
	cmd  *exec.Cmd
	url  string
	logs *syncBuffer
}

// startNATSCluster starts n clustered NATS nodes with JetStream on
// loopback, each a process of its own, and waits until JetStream answers.
func startNATSCluster(t *testing.T, n int) []*natsNode {
	t.Helper()
	dir, err := os.MkdirTemp("", "dawsos-natscluster-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	ports, routes := make([]int, n), make([]int, n)
	for i := range n {
		ports[i], routes[i] = freePort(t), freePort(t)
	}
	nodes := make([]*natsNode, n)
	for i := range n {
		var others []string
		for j := range n {
			if j != i {
				others = append(others, fmt.Sprintf("nats-route://127.0.0.1:%d", routes[j]))
			}
		}
		nd := &natsNode{url: fmt.Sprintf("nats://127.0.0.1:%d", ports[i]), logs: &syncBuffer{}}
		nd.cmd = exec.Command(natsNodeBinary(t), "-name", fmt.Sprintf("n%d", i+1), "-port", fmt.Sprint(ports[i]),
			"-cluster-port", fmt.Sprint(routes[i]), "-routes", strings.Join(others, ","), "-store", filepath.Join(dir, fmt.Sprintf("n%d", i+1)))
		nd.cmd.Stdout, nd.cmd.Stderr = nd.logs, nd.logs
		if err := nd.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if nd.cmd.ProcessState == nil {
				_ = nd.cmd.Process.Kill()
				_ = nd.cmd.Wait()
			}
		})
		nodes[i] = nd
	}
	urls := clusterURL(nodes)
	deadline := time.Now().Add(60 * time.Second)
	for {
		err := func() error {
			nc, err := nats.Connect(urls, nats.Timeout(2*time.Second))
			if err != nil {
				return err
			}
			defer nc.Close()
			js, err := nc.JetStream(nats.MaxWait(2 * time.Second))
			if err != nil {
				return err
			}
			_, err = js.AccountInfo()
			return err
		}()
		if err == nil {
			return nodes
		}
		if time.Now().After(deadline) {
			var logs []string
			for i, nd := range nodes {
				logs = append(logs, fmt.Sprintf("node %d:\n%s", i+1, nd.logs.String()))
			}
			t.Fatalf("NATS cluster has no JetStream within 60s: %v\n%s", err, strings.Join(logs, "\n"))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func clusterURL(nodes []*natsNode) string {
	urls := make([]string, len(nodes))
	for i, nd := range nodes {
		urls[i] = nd.url
	}
	return strings.Join(urls, ",")
}

// TestE2ENATSClusterLosesANodeAndAProcess runs DawsOS on a three-node NATS
// cluster (R3 streams, consumers and breakers) with two dawsos processes
// sharing one PostgreSQL: a serve and a worker, both hosting the test
// agent. During a burst of 200 runs the worker and then one NATS node are
// killed with SIGKILL. Every accepted run must end succeeded, and no step
// result may be applied twice.
func TestE2ENATSClusterLosesANodeAndAProcess(t *testing.T) {
	t.Parallel()
	nodes := startNATSCluster(t, 3)
	s := newServer(t, "DAWSOS_NATS_URL="+clusterURL(nodes), "DAWSOS_NATS_REPLICAS=3",
		"DAWSOS_STEPS_TIMEOUT=3s", "DAWSOS_STEPS_CANCEL_GRACE=1s", "DAWSOS_STEPS_MAX_IN_FLIGHT=16")
	s.setFault("sleep:30ms") // keep steps in flight when the kills land
	s.start()

	worker := exec.Command(dawsosBinary(t), "worker", "--agents", "test")
	worker.Env = append(append([]string{}, s.env...), "DAWSOS_DATA_DIR="+s.dataDir+"-worker")
	wlogs := &syncBuffer{}
	worker.Stdout, worker.Stderr = wlogs, wlogs
	if err := worker.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if worker.ProcessState == nil {
			_ = worker.Process.Kill()
			_ = worker.Wait()
		}
	})

	const total = 200
	var mu sync.Mutex
	var accepted []string
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	var killWorker, killNode sync.Once
	for i := 0; i < total; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			code, body, err := s.request("POST", "/v1/runs", map[string]any{"pattern": "e2e_flaky", "inputs": map[string]any{"key": "k"}})
			if err != nil || code != http.StatusAccepted {
				return // refused while the bus recovered: not accepted
			}
			mu.Lock()
			accepted = append(accepted, body["run_id"].(string))
			n := len(accepted)
			mu.Unlock()
			switch n {
			case total / 3:
				killWorker.Do(func() {
					_ = worker.Process.Signal(syscall.SIGKILL)
					_ = worker.Wait()
				})
			case 2 * total / 3:
				killNode.Do(func() {
					_ = nodes[1].cmd.Process.Signal(syscall.SIGKILL)
					_ = nodes[1].cmd.Wait()
				})
			}
		}()
	}
	wg.Wait()
	if len(accepted) < 2*total/3 {
		t.Fatalf("only %d of %d runs accepted; the kills were meant to land during the burst; server log:\n%s", len(accepted), total, s.logBuf.String())
	}
	s.setFault("")
	for _, id := range accepted {
		body := s.waitRun(id, 120*time.Second)
		if body["status"] != "succeeded" {
			t.Fatalf("run %s ended %v; want succeeded: %v\nworker log:\n%s", id, body["status"], body, wlogs.String())
		}
	}
	db := s.database(t)
	var dup, unfinished int
	if err := db.QueryRow(context.Background(), `SELECT count(*) FROM (SELECT run_id, step_id FROM run_events
		WHERE type = 'step.succeeded' GROUP BY run_id, step_id HAVING count(*) > 1) d`).Scan(&dup); err != nil {
		t.Fatal(err)
	}
	if dup != 0 {
		t.Fatalf("%d steps have more than one success event", dup)
	}
	if err := db.QueryRow(context.Background(), `SELECT count(*) FROM runs WHERE status = 'running'`).Scan(&unfinished); err != nil {
		t.Fatal(err)
	}
	if unfinished != 0 {
		t.Fatalf("%d runs still running", unfinished)
	}
	t.Logf("%d of %d runs accepted; the worker and node n2 were killed during the burst; all ended succeeded", len(accepted), total)
}
