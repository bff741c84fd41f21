// Package latencyproxy is a loopback TCP proxy that delays what clients send
// by a fixed time, so benchmarks against a local server see the round trips
// a real network has. On loopback the two cores, not the wire, are the
// limit, which hides what parallel requests gain.
//
// The delay is a time shift, not a throttle: every chunk a client sends is
// forwarded delay after it arrived, and chunks in flight overlap. A request
// therefore costs delay once however many packets it spans, and concurrent
// connections are delayed independently. Replies are forwarded at once.
package latencyproxy

import (
	"errors"
	"io"
	"net"
	"sync"
	"time"
)

// Proxy forwards connections accepted on a loopback port to a target.
type Proxy struct {
	ln    net.Listener
	dial  func() (net.Conn, error)
	delay time.Duration

	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
	wg     sync.WaitGroup
}

// Start listens on a free 127.0.0.1 port and forwards every connection to
// target (host:port), delaying client-to-target data by delay.
func Start(target string, delay time.Duration) (*Proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	return Serve(ln, func() (net.Conn, error) { return net.DialTimeout("tcp", target, 5*time.Second) }, delay), nil
}

// Serve forwards every connection ln accepts to one dial opens, delaying
// client-to-target data by delay. Start is Serve on loopback TCP; tests
// serve in-memory pipes to run the proxy on a fake clock.
func Serve(ln net.Listener, dial func() (net.Conn, error), delay time.Duration) *Proxy {
	p := &Proxy{ln: ln, dial: dial, delay: delay, conns: map[net.Conn]struct{}{}}
	p.wg.Add(1)
	go p.accept()
	return p
}

// Addr is the proxy's host:port.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Close stops accepting, cuts every open connection and waits until all of
// the proxy's goroutines have ended.
func (p *Proxy) Close() error {
	p.mu.Lock()
	p.closed = true
	for c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	err := p.ln.Close()
	p.wg.Wait()
	return err
}

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return // closed
		}
		if !p.track(c) {
			return
		}
		p.wg.Add(1)
		go p.serve(c)
	}
}

// track registers a connection so Close can cut it; false once closed.
func (p *Proxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		c.Close()
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

func (p *Proxy) untrack(c net.Conn) {
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
	c.Close()
}

func (p *Proxy) serve(client net.Conn) {
	defer p.wg.Done()
	defer p.untrack(client)
	upstream, err := p.dial()
	if err != nil || !p.track(upstream) {
		return
	}
	defer p.untrack(upstream)
	done := make(chan struct{})
	go func() {
		defer close(done)
		forward(upstream, client, p.delay)
	}()
	forward(client, upstream, 0)
	<-done
}

// forward copies src to dst, each chunk delay after it was read, then
// passes the end of the stream on. If either side fails both are closed,
// which also ends the copy in the other direction.
func forward(dst, src net.Conn, delay time.Duration) {
	var err error
	if delay <= 0 {
		_, err = io.Copy(dst, src)
	} else {
		err = copyDelayed(dst, src, delay)
	}
	if err != nil {
		dst.Close()
		src.Close()
		return
	}
	if cw, ok := dst.(interface{ CloseWrite() error }); ok {
		cw.CloseWrite()
	}
}

type chunk struct {
	data []byte
	due  time.Time
}

// copyDelayed reads src as fast as it can and writes each chunk to dst once
// it is due. The queue bounds how much is held back.
func copyDelayed(dst, src net.Conn, delay time.Duration) error {
	queue := make(chan chunk, 256)
	werr := make(chan error, 1)
	go func() {
		var err error
		for c := range queue {
			if err != nil {
				continue // drain so the reader is never blocked
			}
			time.Sleep(time.Until(c.due))
			if _, err = dst.Write(c.data); err != nil {
				src.Close() // stop the reader too
			}
		}
		werr <- err
	}()
	var rerr error
	buf := make([]byte, 64<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			queue <- chunk{data: append([]byte(nil), buf[:n]...), due: time.Now().Add(delay)}
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				rerr = err
			}
			break
		}
	}
	close(queue)
	if err := <-werr; err != nil {
		return err
	}
	return rerr
}
