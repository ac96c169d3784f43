package orchestrator

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/patterns"
	"github.com/dawsos/dawsos/storage"
)

// versions resolves a run's pattern by the content hash it was accepted
// with. A run is pinned to that version for every later decision: after a
// restart with edited pattern files, after a replay, and on another
// process of a rolling deploy. Versions are stored in pattern_versions the
// first time a run uses them; this process keeps every version it has
// seen, parsed.
type versions struct {
	mu     sync.RWMutex
	byHash map[string]*patterns.Pattern
	stored map[string]bool // written to pattern_versions by this process
}

func newVersions(ps *patterns.Set) *versions {
	v := &versions{byHash: map[string]*patterns.Pattern{}, stored: map[string]bool{}}
	for _, p := range ps.List() {
		v.byHash[p.Hash()] = p
	}
	return v
}

// get returns the version of pattern id with the given hash: from memory,
// else from pattern_versions through q.
func (v *versions) get(ctx context.Context, q storage.Querier, id, hash string) (*patterns.Pattern, error) {
	v.mu.RLock()
	p, ok := v.byHash[hash]
	v.mu.RUnlock()
	if ok {
		return p, nil
	}
	doc, err := storage.GetPatternVersion(ctx, q, hash)
	if err != nil {
		return nil, fmt.Errorf("load version %s of pattern %s: %w", hash, id, err)
	}
	p, err = patterns.Parse("pattern_versions/"+hash, doc)
	if err != nil {
		return nil, agents.Wrap(agents.CodeNotFound, err, "parse stored version %s of pattern %s", hash, id)
	}
	if p.Hash() != hash || p.ID != id {
		return nil, agents.Errorf(agents.CodeNotFound, "stored version %s of pattern %s hashes to %s (id %s)", hash, id, p.Hash(), p.ID)
	}
	v.mu.Lock()
	v.byHash[hash] = p
	v.stored[hash] = true
	v.mu.Unlock()
	return p, nil
}

// pending returns the version row to store with a new run of p, or nil
// when this process has stored it already.
func (v *versions) pending(p *patterns.Pattern) *storage.PatternVersion {
	v.mu.RLock()
	done := v.stored[p.Hash()]
	v.mu.RUnlock()
	if done {
		return nil
	}
	doc, err := json.Marshal(p)
	if err != nil {
		// A parsed pattern always encodes.
		panic(fmt.Sprintf("orchestrator: encode pattern %s: %v", p.ID, err))
	}
	return &storage.PatternVersion{Hash: p.Hash(), PatternID: p.ID, Version: p.Version, Document: doc}
}

func (v *versions) markStored(hash string) {
	v.mu.Lock()
	v.stored[hash] = true
	v.mu.Unlock()
}
