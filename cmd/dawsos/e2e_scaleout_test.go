package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/dawsos/dawsos/bus"
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
	s.natsURL = fmt.Sprintf("nats://127.0.0.1:%d", natsPort)
	s.start()

	// The outside subscriber follows runs with its own account; the
	// orchestrator account inspects the queues.
	nc, err := nats.Connect(s.natsURL, nats.UserInfo(bus.AccountSubscriber, e2eSubscriberNATSPW))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	ops, err := nats.Connect(s.natsURL, nats.UserInfo(bus.AccountOrchestrator, e2eOrchestratorNATSPW))
	if err != nil {
		t.Fatal(err)
	}
	defer ops.Close()
	events := make(chan *nats.Msg, 64)
	sub, err := nc.ChanSubscribe("dawsos.run.>", events)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()

	// Without a worker nothing runs the steps. Rather than wait a while and
	// see that nothing happened, the test waits for the state that proves
	// it: the first step's request is stored on STEPS, and STEPS has no
	// consumer at all (only agent routers create them), so nothing can
	// have taken it. The worker started next is then what runs it.
	id := s.submit("e2e_one", map[string]any{"v": 3})
	js, err := ops.JetStream()
	if err != nil {
		t.Fatal(err)
	}
	s.waitQueuedWithoutConsumer(t, js, id, "a", "test.noop", 30*time.Second)

	logs := startWorker(t, s, fmt.Sprintf("nats://127.0.0.1:%d", natsPort), s.dataDir+"-worker")

	body := s.waitRun(id, 30*time.Second)
	if body["status"] != "succeeded" {
		t.Fatalf("run %v; worker log:\n%s", body, logs.String())
	}
	for _, st := range body["steps"].([]any) {
		if a := st.(map[string]any)["agent"]; a != "test" {
			t.Fatalf("step ran on agent %v; want test", a)
		}
	}
	// The serving process hosts no agent, yet lists the worker's
	// breakers: there is one per capability for the whole cluster.
	_, br := s.do("GET", "/v1/breakers", nil)
	listed := map[string]any{}
	for _, b := range br["breakers"].([]any) {
		listed[b.(map[string]any)["capability"].(string)] = b.(map[string]any)["state"]
	}
	if listed["test.noop"] != "closed" {
		t.Fatalf("GET /v1/breakers on serve --agents none: %v; want the worker's test.noop, closed", br)
	}
	// The subscription was made before the submission, so run.completed
	// is in the channel or on its way.
	var seen []string
	deadline := time.After(30 * time.Second)
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
			if ev.RunID != id {
				continue
			}
			seen = append(seen, ev.Type+" on "+m.Subject)
			if ev.Type == "run.completed" {
				if want := bus.EventSubject(id, "run.completed"); m.Subject != want {
					t.Fatalf("run.completed on subject %s; want %s", m.Subject, want)
				}
				return
			}
		case <-deadline:
			t.Fatalf("no run.completed event of run %s reached the outside NATS subscriber within 30s; its events seen: %q", id, seen)
		}
	}
}

// waitQueuedWithoutConsumer polls until the run is running with the step
// queued, a request for the capability is stored on STEPS, and STEPS has
// no consumer, then returns; the deadline reports the last of each seen.
func (s *server) waitQueuedWithoutConsumer(t *testing.T, js nats.JetStreamContext, runID, stepID, capability string, within time.Duration) {
	t.Helper()
	subject := bus.StepSubject(capability)
	deadline := time.Now().Add(within)
	for {
		_, run := s.do("GET", "/v1/runs/"+runID, nil)
		var step any
		if steps, ok := run["steps"].([]any); ok {
			for _, x := range steps {
				if st := x.(map[string]any); st["id"] == stepID {
					step = st["status"]
				}
			}
		}
		var stored uint64
		si, err := js.StreamInfo(bus.StreamSteps, &nats.StreamInfoRequest{SubjectsFilter: subject})
		if err == nil {
			stored = si.State.Subjects[subject]
		}
		var consumers []string
		for ci := range js.ConsumersInfo(bus.StreamSteps) {
			consumers = append(consumers, ci.Name)
		}
		if len(consumers) > 0 {
			t.Fatalf("run %s: STEPS has consumers %v though no process hosts agents; the step could have been taken", runID, consumers)
		}
		if run["status"] == "running" && step == "queued" && stored > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("run %s: waited %s for status running, step %s queued and a request on %s; last seen status %v, step %v, %d stored (stream info error %v)\n%s",
				runID, within, stepID, subject, run["status"], step, stored, err, s.consumerReport())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// startWorker starts `dawsos worker --agents test` on the server's
// environment against the NATS listener at natsURL, as the worker
// account, with its own data directory; it is interrupted at cleanup.
// It returns the worker's log.
func startWorker(t *testing.T, s *server, natsURL, dataDir string) *syncBuffer {
	t.Helper()
	worker := exec.Command(dawsosBinary(t), "worker", "--agents", "test")
	worker.Env = append(append([]string{}, s.env...), "DAWSOS_NATS_URL="+natsURL, "DAWSOS_DATA_DIR="+dataDir,
		"DAWSOS_NATS_USER="+bus.AccountWorker, "DAWSOS_NATS_PASSWORD="+e2eWorkerNATSPW)
	logs := &syncBuffer{}
	worker.Stdout, worker.Stderr = logs, logs
	if err := worker.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = worker.Process.Signal(os.Interrupt)
		_ = worker.Wait()
	})
	return logs
}
