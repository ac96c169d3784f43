package bus

import (
	"testing"
	"time"
)

// TestRetryWaits checks the back-off schedule of ARCHITECTURE §5 (1 s, 2 s,
// 4 s) without a clock. watermill's Retry, which this replaces, waits 2 s
// and then 8 s for the same settings.
func TestRetryWaits(t *testing.T) {
	t.Parallel()
	for attempt, want := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 3: 4 * time.Second, 4: 8 * time.Second} {
		if got := retryWait(time.Second, attempt); got != want {
			t.Errorf("wait after attempt %d = %v; want %v", attempt, got, want)
		}
	}
}

// TestDurableNamesAreInjective: a dot becomes a hyphen, which capability
// names never contain, so no two capabilities share a consumer.
func TestDurableNamesAreInjective(t *testing.T) {
	t.Parallel()
	names := []string{"a.b_c", "a_b.c", "a.b.c", "a_b_c.d", "a.b_c.d", "ab.c"}
	seen := map[string]string{}
	for _, n := range names {
		d := durableName(n)
		if prev, dup := seen[d]; dup {
			t.Errorf("%s and %s share the consumer name %s", prev, n, d)
		}
		seen[d] = n
	}
}
