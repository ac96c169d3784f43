//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package ingress

import (
	"errors"
	"syscall"
)

// peerClosed looks at a socket without consuming anything: recv with
// MSG_PEEK leaves pipelined request bytes for fasthttp to read, and
// MSG_DONTWAIT returns at once. Zero bytes means the peer closed its side
// (a client that half-closes after its request looks the same, which HTTP
// clients do not do); EAGAIN means the connection is open and quiet; bytes
// waiting mean it is open, though a close behind them stays unseen until
// they are read. buf receives the peeked byte.
//
// It goes through RawConn.Control rather than RawConn.Read: Read first
// checks the read deadline fasthttp set for the request, and fails once
// that passes (server.request_timeout and a wait can outlast it).
func peerClosed(rc syscall.RawConn, buf []byte) (bool, error) {
	var (
		n    int
		rerr error
	)
	if err := rc.Control(func(fd uintptr) {
		for {
			n, _, rerr = syscall.Recvfrom(int(fd), buf, syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
			if !errors.Is(rerr, syscall.EINTR) {
				return
			}
		}
	}); err != nil {
		// The connection is closed on this side: nothing is left to
		// answer.
		return true, nil
	}
	switch {
	case rerr == nil:
		return n == 0, nil
	case errors.Is(rerr, syscall.EAGAIN), errors.Is(rerr, syscall.EWOULDBLOCK):
		return false, nil
	case errors.Is(rerr, syscall.ECONNRESET), errors.Is(rerr, syscall.ENOTCONN), errors.Is(rerr, syscall.EPIPE),
		errors.Is(rerr, syscall.ETIMEDOUT):
		return true, nil
	}
	return false, rerr
}
