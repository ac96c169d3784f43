//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package ingress

import (
	"errors"
	"syscall"
)

var errPeekUnsupported = errors.New("peeking at a socket is not implemented on this platform")

// peerClosed cannot tell on this platform; requests run to their deadline
// when the client leaves.
func peerClosed(syscall.RawConn, []byte) (bool, error) { return false, errPeekUnsupported }
