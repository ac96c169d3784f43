package ingress

import (
	"testing"
	"time"
)

// TestLoginLimiterWindows: an account is blocked after its failures until
// its window ends, a success clears the account but not the address, and
// the address limit counts across accounts.
func TestLoginLimiterWindows(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l := newLoginLimiter(time.Minute, 2, 3)
	l.now = func() time.Time { return now }
	l.failed("a", "ip")
	if _, blocked := l.blocked("a", "ip"); blocked {
		t.Fatal("blocked after one failure of two")
	}
	l.failed("a", "ip")
	if wait, blocked := l.blocked("a", "ip"); !blocked || wait != time.Minute {
		t.Fatalf("after two failures: blocked %v for %s; want a minute", blocked, wait)
	}
	if _, blocked := l.blocked("b", "other-ip"); blocked {
		t.Fatal("another account from another address is blocked")
	}
	now = now.Add(time.Minute)
	if _, blocked := l.blocked("a", "other-ip"); blocked {
		t.Fatal("still blocked after the window")
	}
	l.failed("c", "ip2")
	l.failed("d", "ip2")
	l.succeeded("d")
	l.failed("e", "ip2")
	if _, blocked := l.blocked("f", "ip2"); !blocked {
		t.Fatal("the address is not blocked after three failures across accounts")
	}
}
