package postgres

import (
	"bufio"
	"context"
	"encoding/hex"
	"net"
	"os"
	"strconv"
	"strings"
)

// PostgreSQL notices that a client has gone only when it next reads from
// the connection, so a backend stuck in a long query keeps its locks after
// its client died. When the server runs on this host and the client came
// over loopback, the client's end of the connection is in this host's
// socket table, and its absence proves the client has gone.

// tcpEstablished is the state code of an open connection in /proc/net/tcp.
const tcpEstablished = "01"

// tcpClosed names the states in which this end has closed its side: a
// client socket in one of them belongs to a client that is done with it.
// (CLOSE_WAIT is not one: there the other side closed first.)
var tcpClosed = map[string]string{"04": "FIN_WAIT1", "05": "FIN_WAIT2", "06": "TIME_WAIT", "07": "CLOSE", "09": "LAST_ACK", "0B": "CLOSING"}

// loopbackSockets maps {local port, remote port} of every loopback-to-
// loopback TCP socket of this network namespace to its state code. It is
// nil where /proc/net/tcp cannot be read (not Linux).
func loopbackSockets() map[[2]uint16]string {
	var out map[[2]uint16]string
	for _, path := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		f, err := os.Open(path)
		if err != nil {
			continue
		}
		if out == nil {
			out = map[[2]uint16]string{}
		}
		sc := bufio.NewScanner(f)
		sc.Scan() // header
		for sc.Scan() {
			fields := strings.Fields(sc.Text())
			if len(fields) < 4 {
				continue
			}
			lip, lport, ok1 := procAddr(fields[1])
			rip, rport, ok2 := procAddr(fields[2])
			if ok1 && ok2 && lip.IsLoopback() && rip.IsLoopback() {
				out[[2]uint16{lport, rport}] = fields[3]
			}
		}
		f.Close()
	}
	return out
}

// procAddr decodes "0100007F:1F90": the address as 32-bit words in host
// (little-endian) order, then the port in hex.
func procAddr(s string) (net.IP, uint16, bool) {
	addr, port, ok := strings.Cut(s, ":")
	b, err := hex.DecodeString(addr)
	p, perr := strconv.ParseUint(port, 16, 16)
	if !ok || err != nil || perr != nil || (len(b) != 4 && len(b) != 16) {
		return nil, 0, false
	}
	for i := 0; i < len(b); i += 4 {
		b[i], b[i+1], b[i+2], b[i+3] = b[i+3], b[i+2], b[i+1], b[i]
	}
	return net.IP(b), uint16(p), true
}

// localServer tells whether the server shares this host's network
// namespace: our own session's client end must be an open socket here, and
// its backend pid a postgres process here. Through a tunnel (ssh -L,
// kubectl port-forward) neither holds, and no client can be proven gone.
type localServer struct {
	port    uint16
	sockets map[[2]uint16]string
}

func (s *Store) localServer(ctx context.Context) (*localServer, bool) {
	var pid int
	var client *string
	var clientPort, serverPort *int32
	err := s.pool.QueryRow(ctx, "SELECT pg_backend_pid(), host(inet_client_addr()), inet_client_port(), inet_server_port()").
		Scan(&pid, &client, &clientPort, &serverPort)
	if err != nil || client == nil || clientPort == nil || serverPort == nil {
		return nil, false
	}
	if ip := net.ParseIP(*client); ip == nil || !ip.IsLoopback() {
		return nil, false
	}
	comm, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/comm")
	if err != nil || !strings.HasPrefix(string(comm), "postgres") {
		return nil, false
	}
	sockets := loopbackSockets()
	if sockets[[2]uint16{uint16(*clientPort), uint16(*serverPort)}] != tcpEstablished {
		return nil, false
	}
	return &localServer{port: uint16(*serverPort), sockets: sockets}, true
}

// clientGone reports whether a holder's loopback client has provably
// closed its end, and says why.
func (l *localServer) clientGone(r lockRow) (bool, string) {
	if l == nil || r.client == nil || r.clientPort == nil || *r.clientPort <= 0 {
		return false, ""
	}
	if ip := net.ParseIP(*r.client); ip == nil || !ip.IsLoopback() {
		return false, ""
	}
	port := strconv.Itoa(int(*r.clientPort))
	state, found := l.sockets[[2]uint16{uint16(*r.clientPort), l.port}]
	switch {
	case !found:
		return true, "its client's end of the connection (port " + port + ") no longer exists on this host, where the server runs: the client has gone"
	case tcpClosed[state] != "":
		return true, "its client closed its end of the connection (port " + port + " is in " + tcpClosed[state] + " on this host, where the server runs): the client has gone"
	case state == tcpEstablished:
		return false, "its client's connection (port " + port + ") is still open on this host"
	}
	return false, ""
}
