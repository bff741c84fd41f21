package auth

import (
	"errors"
	"net"
	"syscall"
)

// peerCred reads the connecting process's credentials (SO_PEERCRED), as
// the kernel recorded them at connect time: they cannot be forged.
func peerCred(c net.Conn) (*Ucred, error) {
	uc, ok := c.(*net.UnixConn)
	if !ok {
		return nil, errors.New("not a unix socket connection")
	}
	raw, err := uc.SyscallConn()
	if err != nil {
		return nil, err
	}
	var cred *syscall.Ucred
	var serr error
	if err := raw.Control(func(fd uintptr) {
		cred, serr = syscall.GetsockoptUcred(int(fd), syscall.SOL_SOCKET, syscall.SO_PEERCRED)
	}); err != nil {
		return nil, err
	}
	if serr != nil {
		return nil, serr
	}
	return &Ucred{PID: cred.Pid, UID: cred.Uid, GID: cred.Gid}, nil
}
