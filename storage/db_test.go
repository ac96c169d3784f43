package storage_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/dawsos/dawsos/storage"
	"github.com/dawsos/dawsos/storage/pgtest"
)

// TestAcquireTimeout checks DB.Acquire's deadline: with the only connection
// held, a second acquire fails with ErrAcquireTimeout instead of waiting
// for the caller's (here: background) context.
func TestAcquireTimeout(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, err := storage.Open(ctx, storage.PoolConfig{URL: pgtest.URL(t), MaxConns: 1, AcquireTimeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	held, err := db.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = db.Acquire(ctx)
	if !errors.Is(err, storage.ErrAcquireTimeout) {
		t.Errorf("second Acquire with MaxConns 1 and one connection held: got %v, want ErrAcquireTimeout", err)
	}
	if waited := time.Since(start); waited < 200*time.Millisecond {
		t.Errorf("second Acquire returned after %s, before the 200ms acquire timeout", waited)
	}
	// Through the helpers too: Exec acquires the same way.
	if _, err := db.Exec(ctx, "SELECT 1"); !errors.Is(err, storage.ErrAcquireTimeout) {
		t.Errorf("Exec with the pool exhausted: got %v, want ErrAcquireTimeout", err)
	}
	// A caller's own cancellation is not reported as a pool timeout.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := db.Acquire(cctx); err == nil || errors.Is(err, storage.ErrAcquireTimeout) {
		t.Errorf("Acquire with a cancelled context: got %v, want the context's error", err)
	}
	held.Release()
	c, err := db.Acquire(ctx)
	if err != nil {
		t.Fatalf("Acquire after release: %v", err)
	}
	c.Release()
}

// TestPlanCacheMode checks that the pool's sessions run with the configured
// plan_cache_mode: custom plans by default, the server's own setting for
// "auto", and a mode written in the URL wins over the field.
func TestPlanCacheMode(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := pgtest.URL(t)
	for _, tc := range []struct {
		name, url, mode, want string
	}{
		{"default", url, "", "force_custom_plan"},
		{"auto keeps the server's", url, "auto", "auto"},
		{"generic", url, "force_generic_plan", "force_generic_plan"},
		{"url wins", url + "&plan_cache_mode=force_generic_plan", "force_custom_plan", "force_generic_plan"},
	} {
		db, err := storage.Open(ctx, storage.PoolConfig{URL: tc.url, MaxConns: 2, AcquireTimeout: 5 * time.Second, PlanCacheMode: tc.mode})
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		var got string
		err = db.Pool().QueryRow(ctx, "SHOW plan_cache_mode").Scan(&got)
		db.Close()
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got != tc.want {
			t.Errorf("%s: plan_cache_mode %q, want %q", tc.name, got, tc.want)
		}
	}
}
