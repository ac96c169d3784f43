package bus_test

import (
	"context"
	"log/slog"
	"os"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/dawsos/dawsos/bus"
)

// TestQueueStorageCanBeSwitched restarts the bus on the same store with
// the other work-queue storage: the queues are recreated rather than
// failing start-up, and the other streams keep their file storage.
func TestQueueStorageCanBeSwitched(t *testing.T) {
	t.Parallel()
	dir, err := os.MkdirTemp("", "dawsos-streams-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	log := slog.New(slog.DiscardHandler)
	for _, c := range []struct {
		setting string
		want    jetstream.StorageType
	}{{bus.QueueStorageFile, jetstream.FileStorage}, {bus.QueueStorageMemory, jetstream.MemoryStorage}, {bus.QueueStorageFile, jetstream.FileStorage}} {
		b, err := bus.Start(context.Background(), bus.Config{StoreDir: dir, QueueStorage: c.setting}, log)
		if err != nil {
			t.Fatalf("start with %s: %v", c.setting, err)
		}
		for name, want := range map[string]jetstream.StorageType{bus.StreamSteps: c.want, bus.StreamResults: c.want, bus.StreamDLQ: jetstream.FileStorage, bus.StreamEvents: jetstream.FileStorage} {
			st, err := b.JS.Stream(context.Background(), name)
			if err != nil {
				t.Fatal(err)
			}
			if got := st.CachedInfo().Config.Storage; got != want {
				t.Errorf("%s with queue_storage %s: storage %s; want %s", name, c.setting, got, want)
			}
		}
		b.Close()
	}
}
