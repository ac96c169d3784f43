package orchestrator_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/dawsos/dawsos/storage"
)

// TestDocumentFiles: a run's document lists the files its steps stored,
// in the order they were first stored, each with its download link, and
// a run without files lists none ([] rather than null). A file stored
// again by the same step (a replay) stays one entry.
func TestDocumentFiles(t *testing.T) {
	t.Parallel()
	e := setup(t, envOpts{})
	runID := e.submit(t, "one", nil)
	d := e.wait(t, runID)
	if raw, err := json.Marshal(d); err != nil || !bytes.Contains(raw, []byte(`"files":[]`)) {
		t.Fatalf("a run without files: %s (%v); want \"files\":[]", raw, err)
	}
	other := e.wait(t, e.submit(t, "one", nil))
	ctx := context.Background()
	store := func(run, step, name string, content string) storage.File {
		t.Helper()
		sum := sha256.Sum256([]byte(content))
		var f storage.File
		if err := e.db.Tx(ctx, func(tx pgx.Tx) error {
			var err error
			f, err = storage.UpsertFile(ctx, tx, storage.File{RunID: uuid.MustParse(run), StepID: step, Name: name,
				MediaType: "text/csv; charset=utf-8", SHA256: hex.EncodeToString(sum[:]), Content: []byte(content)})
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return f
	}
	first := store(runID, "a", "holdings.csv", "a,b\r\n1,2\r\n")
	second := store(runID, "a", "nav.csv", "d,v\r\n")
	again := store(runID, "a", "holdings.csv", "a,b\r\n1,3\r\n")
	store(other.RunID, "a", "holdings.csv", "x\r\n")
	if again.ID != first.ID {
		t.Errorf("storing holdings.csv again gave id %s; want the first id %s", again.ID, first.ID)
	}

	d = e.wait(t, runID)
	if len(d.Files) != 2 {
		t.Fatalf("files %+v; want holdings.csv and nav.csv", d.Files)
	}
	for i, want := range []storage.File{again, second} {
		got := d.Files[i]
		if got.ID != want.ID.String() || got.Name != want.Name || got.StepID != "a" || got.Size != want.Size ||
			got.SHA256 != want.SHA256 || got.MediaType != want.MediaType || got.Download != "/v1/files/"+want.ID.String() {
			t.Errorf("file %d = %+v; want %s (%d bytes, sha256 %s)", i, got, want.Name, want.Size, want.SHA256)
		}
	}
}
