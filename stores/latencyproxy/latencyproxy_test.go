package latencyproxy

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"go.uber.org/goleak"

	"statescope/stores/storetest"
)

// Every goroutine of the proxy and of the test servers must be gone at the end.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// echoServer answers every line with the same line.
func echoServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				io.Copy(c, c)
			}()
		}
	}()
	return ln.Addr().String()
}

func roundTrip(t *testing.T, c net.Conn, r *bufio.Reader, msg string) time.Duration {
	t.Helper()
	start := time.Now()
	if _, err := c.Write([]byte(msg + "\n")); err != nil {
		t.Fatal(err)
	}
	got, err := r.ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	if got != msg+"\n" {
		t.Fatalf("echo: got %q, want %q", got, msg)
	}
	return time.Since(start)
}

// pipes is an in-memory listener: Dial hands the proxy one end of a
// net.Pipe. Pipes block durably, so the proxy runs on synctest's fake clock
// and its delays are exact.
type pipes struct {
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
}

func newPipes() *pipes { return &pipes{conns: make(chan net.Conn), done: make(chan struct{})} }

func (l *pipes) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *pipes) Close() error   { l.once.Do(func() { close(l.done) }); return nil }
func (l *pipes) Addr() net.Addr { return &net.UnixAddr{Name: "pipe", Net: "pipe"} }

func (l *pipes) Dial() net.Conn {
	client, server := net.Pipe()
	l.conns <- server
	return client
}

// pipeEcho dials an in-memory echo server.
func pipeEcho() (net.Conn, error) {
	proxySide, server := net.Pipe()
	go func() {
		defer server.Close()
		io.Copy(server, server)
	}()
	return proxySide, nil
}

// onFakeClock runs test with a proxy of the given delay in front of an echo
// server, all in memory inside a synctest bubble.
func onFakeClock(t *testing.T, delay time.Duration, test func(t *testing.T, dial func() net.Conn)) {
	synctest.Test(t, func(t *testing.T) {
		ln := newPipes()
		p := Serve(ln, pipeEcho, delay)
		defer p.Close()
		test(t, ln.Dial)
	})
}

func TestDelay(t *testing.T) {
	for _, delay := range []time.Duration{0, 100 * time.Millisecond} {
		t.Run(delay.String(), func(t *testing.T) {
			onFakeClock(t, delay, func(t *testing.T, dial func() net.Conn) {
				c := dial()
				defer c.Close()
				r := bufio.NewReader(c)
				for i := range 3 {
					if d := roundTrip(t, c, r, "ping"); d != delay {
						t.Errorf("round trip %d took %s, want %s", i, d, delay)
					}
				}
			})
		})
	}
}

// The delay is a shift, not a per-chunk sleep: chunks sent back to back and
// requests on parallel connections each cost it once.
func TestDelayOverlaps(t *testing.T) {
	const delay = 50 * time.Millisecond
	t.Run("chunks", func(t *testing.T) {
		onFakeClock(t, delay, func(t *testing.T, dial func() net.Conn) {
			c := dial()
			defer c.Close()
			start := time.Now()
			const chunks, gap = 10, 2 * time.Millisecond
			for i := range chunks {
				if i > 0 {
					time.Sleep(gap)
				}
				c.Write([]byte("x"))
			}
			buf := make([]byte, chunks)
			if _, err := io.ReadFull(c, buf); err != nil {
				t.Fatal(err)
			}
			if d, want := time.Since(start), (chunks-1)*gap+delay; d != want {
				t.Errorf("%d chunks took %s, want %s: the last one sent plus one delay", chunks, d, want)
			}
		})
	})
	t.Run("connections", func(t *testing.T) {
		onFakeClock(t, delay, func(t *testing.T, dial func() net.Conn) {
			const n = 8
			var wg sync.WaitGroup
			start := time.Now()
			for range n {
				c := dial()
				wg.Go(func() {
					defer c.Close()
					roundTrip(t, c, bufio.NewReader(c), "hello")
				})
			}
			wg.Wait()
			if d := time.Since(start); d != delay {
				t.Errorf("%d parallel round trips took %s, want %s: connections were serialised", n, d, delay)
			}
		})
	})
}

func TestLargeTransferAndHalfClose(t *testing.T) {
	p, err := Start(echoServer(t), 5*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	c, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	want := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB
	go func() {
		c.Write(want)
		c.(*net.TCPConn).CloseWrite()
	}()
	got, err := io.ReadAll(c) // ends only if the half-close travelled through
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("echoed %d bytes, want %d identical bytes", len(got), len(want))
	}
}

func TestCloseCutsConnections(t *testing.T) {
	p, err := Start(echoServer(t), time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	roundTrip(t, c, bufio.NewReader(c), "before")
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	// A read that times out means the connection was left open.
	c.SetReadDeadline(deadline(t))
	if _, err := c.Read(make([]byte, 1)); err == nil || isTimeout(err) {
		t.Errorf("connection still open after Close: read = %v", err)
	}
	if _, err := net.DialTimeout("tcp", p.Addr(), time.Second); err == nil {
		t.Error("proxy still accepts after Close")
	}
}

func TestUnreachableTarget(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	dead := ln.Addr().String()
	ln.Close()
	p, err := Start(dead, time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	c, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetReadDeadline(deadline(t))
	if _, err := c.Read(make([]byte, 1)); err == nil || isTimeout(err) {
		t.Errorf("client of an unreachable target: read = %v, want the connection closed", err)
	}
}

// deadline is the run's: a read blocked until then means nothing arrived.
func deadline(t *testing.T) time.Time {
	d, _ := storetest.Patience(t).Deadline()
	return d
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}
