package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

// TestE2EWorkerAndOutsideSubscriber runs the API and orchestrator in one
// process (serve --agents none, with a NATS listener) and the agents in
// another (worker, against that NATS and the same database), and follows
// a run from outside over NATS: the scale-out shape of the engine.
func TestE2EWorkerAndOutsideSubscriber(t *testing.T) {
	t.Parallel()
	natsPort := freePort(t)
	s := newServer(t, fmt.Sprintf("DAWSOS_NATS_LISTEN=127.0.0.1:%d", natsPort))
	s.cmdArgs = []string{"serve", "--agents", "none"}
	s.start()

	nc, err := nats.Connect(fmt.Sprintf("nats://127.0.0.1:%d", natsPort))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	events := make(chan *nats.Msg, 64)
	sub, err := nc.ChanSubscribe("dawsos.run.>", events)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()

	// Without a worker nothing runs the steps.
	id := s.submit("e2e_one", map[string]any{"v": 3})
	time.Sleep(500 * time.Millisecond)
	if _, body := s.do("GET", "/v1/runs/"+id, nil); body["status"] != "running" {
		t.Fatalf("run without any agent: %v; want still running", body["status"])
	}

	worker := exec.Command(dawsosBinary(t), "worker", "--agents", "test")
	worker.Env = append(append([]string{}, s.env...), fmt.Sprintf("DAWSOS_NATS_URL=nats://127.0.0.1:%d", natsPort),
		"DAWSOS_DATA_DIR="+s.dataDir+"-worker")
	logs := &syncBuffer{}
	worker.Stdout, worker.Stderr = logs, logs
	if err := worker.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = worker.Process.Signal(os.Interrupt)
		_ = worker.Wait()
	})

	body := s.waitRun(id, 30*time.Second)
	if body["status"] != "succeeded" {
		t.Fatalf("run %v; worker log:\n%s", body, logs.String())
	}
	for _, st := range body["steps"].([]any) {
		if a := st.(map[string]any)["agent"]; a != "test" {
			t.Fatalf("step ran on agent %v; want test", a)
		}
	}
	deadline := time.After(10 * time.Second)
	for {
		select {
		case m := <-events:
			var ev struct {
				RunID string `json:"run_id"`
				Type  string `json:"type"`
			}
			if err := json.Unmarshal(m.Data, &ev); err != nil {
				t.Fatalf("undecodable event on %s: %s", m.Subject, m.Data)
			}
			if ev.RunID == id && ev.Type == "run.completed" {
				if m.Subject != "dawsos.run."+id+".run.completed" {
					t.Fatalf("run.completed on subject %s", m.Subject)
				}
				return
			}
		case <-deadline:
			t.Fatal("no run.completed event reached the outside NATS subscriber")
		}
	}
}
