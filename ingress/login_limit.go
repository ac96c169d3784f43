package ingress

import (
	"sync"
	"time"
)

// loginLimiter counts failed logins per account (the email as given,
// whether or not a user has it, so its answers say nothing about which
// emails exist) and per client address, in fixed windows. It lives in
// this process's memory: with several processes behind a balancer each
// counts its own share, so the effective limit is that many times higher
// (docs/security.md says so).
type loginLimiter struct {
	window     time.Duration
	perAccount int
	perAddress int
	now        func() time.Time

	mu        sync.Mutex
	accounts  map[string]*failures
	addresses map[string]*failures
}

type failures struct {
	n     int
	since time.Time
}

// maxTrackedLogins bounds each map; past it, windows that have ended are
// swept, and if none has, the oldest state is dropped wholesale (a flood
// of distinct addresses then forgets counts, which the per-account limit
// still bounds).
const maxTrackedLogins = 100000

func newLoginLimiter(window time.Duration, perAccount, perAddress int) *loginLimiter {
	if window <= 0 {
		window = 15 * time.Minute
	}
	if perAccount <= 0 {
		perAccount = 5
	}
	if perAddress <= 0 {
		perAddress = 4 * perAccount
	}
	return &loginLimiter{window: window, perAccount: perAccount, perAddress: perAddress, now: time.Now,
		accounts: map[string]*failures{}, addresses: map[string]*failures{}}
}

// blocked reports whether a login for account from address must wait, and
// for how long.
func (l *loginLimiter) blocked(account, address string) (time.Duration, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	wait := max(l.wait(l.accounts[account], l.perAccount, now), l.wait(l.addresses[address], l.perAddress, now))
	return wait, wait > 0
}

func (l *loginLimiter) wait(f *failures, limit int, now time.Time) time.Duration {
	if f == nil || f.n < limit {
		return 0
	}
	if left := f.since.Add(l.window).Sub(now); left > 0 {
		return left
	}
	return 0
}

// failed counts a failed login.
func (l *loginLimiter) failed(account, address string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	l.count(l.accounts, account, now)
	l.count(l.addresses, address, now)
}

func (l *loginLimiter) count(m map[string]*failures, key string, now time.Time) {
	f := m[key]
	if f == nil || now.Sub(f.since) >= l.window {
		if len(m) >= maxTrackedLogins {
			l.sweep(m, now)
		}
		f = &failures{since: now}
		m[key] = f
	}
	f.n++
}

func (l *loginLimiter) sweep(m map[string]*failures, now time.Time) {
	for k, f := range m {
		if now.Sub(f.since) >= l.window {
			delete(m, k)
		}
	}
	if len(m) >= maxTrackedLogins {
		clear(m)
	}
}

// succeeded forgets an account's failures; the address keeps its count,
// so one good password does not reset a guesser trying many accounts.
func (l *loginLimiter) succeeded(account string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.accounts, account)
}
