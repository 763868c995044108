package regtest

import (
	"io"
	"net"
	"sync"
)

// rpcProxy forwards the public RPC port to btcd's real one. btcd wipes its
// regtest database on every start, so Restart reloads the chain through the
// real port while the proxy turns clients away; they only see btcd again
// once it has its chain back, as after the restart of a node on a real
// network.
type rpcProxy struct {
	l  net.Listener
	wg sync.WaitGroup

	mu     sync.Mutex
	target string // btcd's RPC address; "" while it is down
	conns  map[net.Conn]struct{}
	closed bool
}

func newRPCProxy() (*rpcProxy, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &rpcProxy{l: l, conns: make(map[net.Conn]struct{})}
	p.wg.Add(1)
	go p.accept()
	return p, nil
}

func (p *rpcProxy) addr() string { return p.l.Addr().String() }

func (p *rpcProxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.l.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		target := p.target
		p.mu.Unlock()
		if target == "" {
			c.Close()
			continue
		}
		up, err := net.Dial("tcp", target)
		if err != nil {
			c.Close()
			continue
		}
		if !p.track(c, up) {
			continue
		}
		p.wg.Add(2)
		go p.pipe(c, up)
		go p.pipe(up, c)
	}
}

// track registers a connection pair unless the proxy went down meanwhile.
func (p *rpcProxy) track(a, b net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.target == "" || p.closed {
		a.Close()
		b.Close()
		return false
	}
	p.conns[a] = struct{}{}
	p.conns[b] = struct{}{}
	return true
}

func (p *rpcProxy) pipe(dst, src net.Conn) {
	defer p.wg.Done()
	_, _ = io.Copy(dst, src)
	dst.Close()
	src.Close()
	p.mu.Lock()
	delete(p.conns, dst)
	delete(p.conns, src)
	p.mu.Unlock()
}

// up forwards new connections to target.
func (p *rpcProxy) up(target string) {
	p.mu.Lock()
	p.target = target
	p.mu.Unlock()
}

// down turns new connections away and cuts the open ones.
func (p *rpcProxy) down() {
	p.mu.Lock()
	p.target = ""
	for c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
}

// close stops the proxy and waits for its goroutines.
func (p *rpcProxy) close() {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	p.down()
	p.l.Close()
	p.wg.Wait()
}
