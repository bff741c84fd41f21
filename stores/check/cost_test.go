package check_test

import (
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"statescope/stores/check"
	"statescope/stores/fleet"
	"statescope/stores/storetest/testserver"
)

// countingProxy forwards loopback connections to a server and counts what
// clients send (each read of theirs is one request, so one round trip at
// least) and the bytes the server answers.
type countingProxy struct {
	ln             net.Listener
	sends, replied atomic.Int64
	mu             sync.Mutex
	conns          []net.Conn
	wg             sync.WaitGroup
}

func startCountingProxy(t *testing.T, target string) *countingProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &countingProxy{ln: ln}
	p.wg.Add(1)
	go p.accept(target)
	t.Cleanup(func() {
		ln.Close()
		p.mu.Lock()
		for _, c := range p.conns {
			c.Close()
		}
		p.mu.Unlock()
		p.wg.Wait()
	})
	return p
}

func (p *countingProxy) accept(target string) {
	defer p.wg.Done()
	for {
		client, err := p.ln.Accept()
		if err != nil {
			return
		}
		server, err := net.Dial("tcp", target)
		if err != nil {
			client.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, client, server)
		p.mu.Unlock()
		p.wg.Add(2)
		go func() {
			defer p.wg.Done()
			defer server.Close()
			buf := make([]byte, 64<<10)
			for {
				n, err := client.Read(buf)
				if n > 0 {
					p.sends.Add(1)
					if _, werr := server.Write(buf[:n]); werr != nil {
						return
					}
				}
				if err != nil {
					return
				}
			}
		}()
		go func() {
			defer p.wg.Done()
			defer client.Close()
			io.Copy(countingWriter{client, &p.replied}, server)
		}()
	}
}

type countingWriter struct {
	w io.Writer
	n *atomic.Int64
}

func (c countingWriter) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	c.n.Add(int64(n))
	return n, err
}

// A check of a PostgreSQL context costs four round trips — log in, list,
// locks, timestamps — and never fetches outputs or config: a fleet pays
// this for every context it checks.
func TestPostgresCheckCost(t *testing.T) {
	const rows, pad = 200, 2000
	pg := testserver.Postgres(t)
	db := pg.NewDatabase(t, "")
	pg.MustExec(t, db, fmt.Sprintf(`CREATE TABLE iac_resources (name TEXT PRIMARY KEY, type TEXT NOT NULL DEFAULT '', provider TEXT NOT NULL DEFAULT '',
 provider_ref TEXT NOT NULL DEFAULT '', provider_id TEXT NOT NULL DEFAULT '', status TEXT NOT NULL DEFAULT '',
 config_hash TEXT NOT NULL DEFAULT '', applied_config JSONB NOT NULL DEFAULT '{}', outputs JSONB NOT NULL DEFAULT '{}',
 dependencies TEXT[] NOT NULL DEFAULT '{}', created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(), updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW());
INSERT INTO iac_resources (name, status, outputs, applied_config)
 SELECT 'res/' || g, 'active', jsonb_build_object('pad', md5(g::text) || repeat('x', %[2]d)), jsonb_build_object('pad', repeat('y', %[2]d))
 FROM generate_series(1, %[1]d) g`, rows, pad))
	proxy := startCountingProxy(t, net.JoinHostPort(pg.Host, strconv.Itoa(pg.Port)))
	target := fmt.Sprintf("postgres://postgres@%s/%s?sslmode=disable", proxy.ln.Addr(), db)
	s, err := fleet.Open(testCtx(t), fleet.Member{Name: "c", Target: target})
	if err != nil {
		t.Fatal(err)
	}
	defer s.(interface{ Close() error }).Close()
	rep, err := check.Run(testCtx(t), s, check.Options{Target: target})
	if err != nil || rep.Records["active"] != rows {
		t.Fatalf("%v, %v", rep.Records, err)
	}
	if got := proxy.sends.Load(); got > 4 {
		t.Errorf("the check sent %d requests, want at most 4 (log in, list, any locks, timestamps)", got)
	}
	if got := proxy.replied.Load(); got >= rows*pad {
		t.Errorf("the server sent %d bytes: outputs or config were fetched (the outputs alone are %d bytes)", got, rows*pad)
	}
}
