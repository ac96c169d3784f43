package ingress

import (
	"context"
	"errors"
	"net"
	"sync"
	"syscall"
	"time"
)

// fasthttp gives a handler no signal when its client goes away: the
// connection is only read again after the response. A request still
// running after peerWatchAfter therefore has its connection looked at
// every peerWatchEvery, without consuming a byte (see peerClosed), and its
// context is cancelled once the peer has closed it. Most requests end
// before the first look; all they pay for is a pooled watch and a timer
// set and stopped (BenchmarkQuickRequest).
const (
	peerWatchAfter = 200 * time.Millisecond
	peerWatchEvery = 250 * time.Millisecond
)

// errClientGone is logged when a stream ends because its client closed the
// connection.
var errClientGone = errors.New("the client closed the connection")

// peerWatch cancels a request's contexts when the peer of its connection
// closes it. A nil *peerWatch watches nothing (a connection that is not a
// socket, such as app.Test's); its methods are no-ops.
type peerWatch struct {
	conn  net.Conn
	timer *time.Timer
	// stopc tells a running poller to stop; buffered, so a watch can be
	// reused without making a new channel.
	stopc chan struct{}
	// wg counts the poller, or the timer that has not started it yet, so
	// that release can wait for whichever it is.
	wg  sync.WaitGroup
	buf [1]byte

	mu     sync.Mutex
	closed bool
	// cancels has room for the request's context and one a handler adds
	// (waitContext) without allocating.
	cancels []context.CancelFunc
}

var peerWatches = sync.Pool{New: func() any {
	w := &peerWatch{stopc: make(chan struct{}, 1), cancels: make([]context.CancelFunc, 0, 2)}
	w.timer = time.AfterFunc(time.Hour, w.poll)
	w.timer.Stop()
	return w
}}

// watchPeer starts watching conn after peerWatchAfter; when its peer
// closes it, cancel is called. The caller must call release before the
// connection is used for anything else.
func watchPeer(conn net.Conn, cancel context.CancelFunc) *peerWatch {
	conn = socketOf(conn)
	if conn == nil {
		return nil
	}
	w := peerWatches.Get().(*peerWatch)
	w.conn = conn
	w.cancels = append(w.cancels, cancel)
	w.wg.Add(1)
	w.timer.Reset(peerWatchAfter)
	return w
}

// socketOf returns the socket under conn (unwrapping TLS), or nil when
// there is none to look at.
func socketOf(conn net.Conn) net.Conn {
	for conn != nil {
		if _, ok := conn.(syscall.Conn); ok {
			return conn
		}
		inner, ok := conn.(interface{ NetConn() net.Conn })
		if !ok {
			return nil
		}
		conn = inner.NetConn()
	}
	return nil
}

// addCancel adds a context to cancel when the peer leaves (a handler that
// replaced the request's context); at once if it has left already.
func (w *peerWatch) addCancel(cancel context.CancelFunc) {
	if w == nil {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		cancel()
		return
	}
	w.cancels = append(w.cancels, cancel)
}

// gone reports whether the peer closed the connection.
func (w *peerWatch) gone() bool {
	if w == nil {
		return false
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.closed
}

// release ends the watch once the poller, if it started, has stopped
// touching the connection, and returns the watch to the pool.
func (w *peerWatch) release() {
	if w == nil {
		return
	}
	if w.timer.Stop() {
		// The poller never started; release its count here.
		w.wg.Done()
	} else {
		w.stopc <- struct{}{}
	}
	w.wg.Wait()
	select {
	case <-w.stopc: // the poller had ended on its own
	default:
	}
	w.conn = nil
	w.closed = false
	clear(w.cancels) // let the contexts go
	w.cancels = w.cancels[:0]
	peerWatches.Put(w)
}

func (w *peerWatch) poll() {
	defer w.wg.Done()
	sc, ok := w.conn.(syscall.Conn)
	if !ok {
		return
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return
	}
	tick := time.NewTicker(peerWatchEvery)
	defer tick.Stop()
	for {
		closed, err := peerClosed(rc, w.buf[:])
		if closed {
			w.mu.Lock()
			w.closed = true
			for _, cancel := range w.cancels {
				cancel()
			}
			w.mu.Unlock()
			return
		}
		if err != nil {
			// The state cannot be told on this connection (or this
			// platform); the request runs to its deadline as before.
			return
		}
		select {
		case <-w.stopc:
			return
		case <-tick.C:
		}
	}
}
