package bus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sort"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go/jetstream"
)

// BreakersBucket is the JetStream key-value bucket that holds one record
// per capability's breaker, shared by every process on the bus.
const BreakersBucket = "dawsos_breakers"

// breakersStream is the stream JetStream keeps the bucket in.
const breakersStream = "KV_" + BreakersBucket

// BreakerSet is the cluster's breakers: one per capability whichever
// process hosts it, so that "exactly 5 failures" and "exactly one probe"
// hold for the capability across every worker, a reset on any process
// resets it everywhere, and every process can list them (also one that
// hosts no agents). Changes are compare-and-set on the bucket; each
// process keeps a copy current through one watch of the bucket.
type BreakerSet struct {
	kv      jetstream.KeyValue
	cfg     BreakerConfig
	now     func() time.Time
	id      string
	log     *slog.Logger
	metrics *Metrics

	mu     sync.Mutex
	byName map[string]*Breaker
	watch  jetstream.KeyWatcher
	done   chan struct{}
}

// BreakerSetConfig configures a BreakerSet.
type BreakerSetConfig struct {
	Breaker BreakerConfig
	Now     func() time.Time
	Logger  *slog.Logger
	// Metrics, when set, gets each breaker's state as this process sees
	// it (its own changes and other processes').
	Metrics *Metrics
}

// NewBreakerSet binds (creating it if needed) the breakers bucket and
// starts watching it; it returns once the current records are loaded.
func (b *Bus) NewBreakerSet(ctx context.Context, cfg BreakerSetConfig) (*BreakerSet, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	proto := NewBreaker("", cfg.Breaker, nil, nil)
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	// Bind the bucket where it exists (a worker's account may not create
	// streams); the first process creates it.
	kv, err := b.JS.KeyValue(cctx, BreakersBucket)
	if errors.Is(err, jetstream.ErrBucketNotFound) {
		kv, err = b.JS.CreateKeyValue(cctx, jetstream.KeyValueConfig{
			Bucket: BreakersBucket, History: 1, Storage: jetstream.FileStorage, Replicas: b.cfg.Replicas,
			Description: "one circuit breaker record per capability, shared by every dawsos process",
		})
		if errors.Is(err, jetstream.ErrBucketExists) {
			kv, err = b.JS.KeyValue(cctx, BreakersBucket)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("breakers bucket: %w", err)
	}
	host, _ := os.Hostname()
	s := &BreakerSet{
		kv: kv, cfg: proto.cfg, now: cfg.Now, log: cfg.Logger, metrics: cfg.Metrics,
		id:     fmt.Sprintf("%s/%d/%s", host, os.Getpid(), uuid.NewString()[:8]),
		byName: map[string]*Breaker{}, done: make(chan struct{}),
	}
	// The watch outlives ctx, the start-up context: it stops with Close.
	w, err := kv.WatchAll(context.WithoutCancel(ctx))
	if err != nil {
		return nil, fmt.Errorf("watch breakers bucket: %w", err)
	}
	s.watch = w
	loaded := make(chan struct{})
	go s.follow(loaded)
	select {
	case <-loaded:
	case <-cctx.Done():
		_ = w.Stop()
		return nil, fmt.Errorf("load breakers: %w", cctx.Err())
	}
	return s, nil
}

// follow applies the bucket's records as they change. The first nil entry
// marks the end of the records that existed when the watch began.
func (s *BreakerSet) follow(loaded chan struct{}) {
	defer close(s.done)
	once := sync.OnceFunc(func() { close(loaded) })
	defer once()
	for e := range s.watch.Updates() {
		if e == nil {
			once()
			continue
		}
		b := s.lookup(e.Key(), 0)
		if e.Operation() != jetstream.KeyValuePut {
			b.adopt(breakerRecord{State: BreakerClosed}, e.Revision())
			continue
		}
		var r breakerRecord
		if err := json.Unmarshal(e.Value(), &r); err != nil {
			s.log.Warn("unreadable breaker record", "capability", e.Key(), "err", err)
			continue
		}
		b.adopt(r, e.Revision())
	}
}

// Get returns the breaker of a capability this process hosts. lease
// bounds how long its probe may run before another caller may probe (the
// step's whole retry budget). A breaker new to the cluster is recorded
// closed, so that every process lists it before it ever fails.
func (s *BreakerSet) Get(capability string, lease time.Duration) *Breaker {
	b := s.lookup(capability, lease)
	b.mu.Lock()
	known := b.rev != 0
	b.mu.Unlock()
	if !known {
		b.change(func(r *breakerRecord) bool { return true })
	}
	return b
}

func (s *BreakerSet) lookup(capability string, lease time.Duration) *Breaker {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.byName[capability]
	if !ok {
		b = NewBreaker(capability, s.cfg, s.now, s.changed)
		b.set = s
		s.byName[capability] = b
		if s.metrics != nil {
			s.metrics.breakerState.WithLabelValues(capability).Set(breakerGauge(b.rec.State))
		}
	}
	if lease > 0 {
		b.mu.Lock()
		b.lease = max(lease, s.cfg.OpenFor)
		b.mu.Unlock()
	}
	return b
}

// changed logs a change of state and updates its gauge.
func (s *BreakerSet) changed(name string, from, to BreakerState) {
	s.log.Warn("circuit breaker changed state", "capability", name, "from", string(from), "to", string(to))
	if s.metrics != nil {
		s.metrics.breakerState.WithLabelValues(name).Set(breakerGauge(to))
	}
}

// Breaker returns the breaker of a capability some process has used.
func (s *BreakerSet) Breaker(capability string) (*Breaker, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.byName[capability]
	return b, ok
}

// Breakers lists every breaker the cluster has used, by name.
func (s *BreakerSet) Breakers() []BreakerSnapshot {
	s.mu.Lock()
	bs := make([]*Breaker, 0, len(s.byName))
	for _, b := range s.byName {
		bs = append(bs, b)
	}
	s.mu.Unlock()
	out := make([]BreakerSnapshot, 0, len(bs))
	for _, b := range bs {
		out = append(out, b.Snapshot())
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Capability < out[j].Capability })
	return out
}

// Close stops the watch.
func (s *BreakerSet) Close() {
	_ = s.watch.Stop()
	select {
	case <-s.done:
	case <-time.After(5 * time.Second):
	}
}

// maxBreakerCAS bounds the compare-and-set attempts of one change; each
// failed attempt means another process changed the record meanwhile.
const maxBreakerCAS = 16

// change compare-and-sets a change of b's record: fn is applied to the
// newest record this process knows, and written only if nobody wrote
// since; otherwise the record is read again and fn applied again. When the
// bucket cannot be reached the change is applied to this process's copy
// alone, logged, and the next write reconciles it.
func (s *BreakerSet) change(b *Breaker, fn func(r *breakerRecord) bool) {
	for range maxBreakerCAS {
		b.mu.Lock()
		r, rev := b.rec, b.rev
		b.mu.Unlock()
		if !fn(&r) {
			return
		}
		data, err := json.Marshal(r)
		if err != nil {
			panic(fmt.Sprintf("bus: encode breaker record: %v", err))
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		var next uint64
		if rev == 0 {
			next, err = s.kv.Create(ctx, b.name, data)
		} else {
			next, err = s.kv.Update(ctx, b.name, data, rev)
		}
		if err == nil {
			cancel()
			b.adopt(r, next)
			return
		}
		if !errors.Is(err, jetstream.ErrKeyExists) {
			cancel()
			s.log.Warn("breaker change not shared with the cluster; applied in this process", "capability", b.name, "err", err)
			b.adopt(r, 0)
			return
		}
		// Someone else wrote first: read what they wrote and decide again.
		e, gerr := s.kv.Get(ctx, b.name)
		cancel()
		if gerr == nil {
			var cur breakerRecord
			if json.Unmarshal(e.Value(), &cur) == nil {
				b.adopt(cur, e.Revision())
			}
		}
	}
	s.log.Warn("breaker change gave up after concurrent changes", "capability", b.name, "attempts", maxBreakerCAS)
}
