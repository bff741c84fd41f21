//go:build !linux

package auth

import (
	"errors"
	"net"
)

// peerCred is implemented on Linux only; elsewhere unix-socket peers are
// refused unless the server is insecure.
func peerCred(net.Conn) (*Ucred, error) {
	return nil, errors.New("peer credentials are read on Linux only")
}
