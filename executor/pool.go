package executor

import (
	"context"
	"fmt"
	"sync"
)

// pool holds live connections by key and makes sure that concurrent callers wanting the
// same connection share one dial instead of each making their own.
type pool struct {
	ctx    context.Context // cancelled by close; bounds dials so that no caller's cancel aborts a shared dial
	cancel context.CancelFunc
	mu     sync.Mutex
	conns  map[string]*conn
	dials  map[string]*dialCall
	closed bool
}

// dialCall is a dial in progress; done is closed when c or err is set.
type dialCall struct {
	done chan struct{}
	c    *conn
	err  error
}

// dialFunc makes a new connection. It gets the pool's context, not a caller's: the result is
// shared by everyone waiting, and dials are bounded by the connect timeout instead.
type dialFunc func(ctx context.Context) (*conn, error)

func newPool() *pool {
	ctx, cancel := context.WithCancel(context.Background())
	return &pool{ctx: ctx, cancel: cancel, conns: map[string]*conn{}, dials: map[string]*dialCall{}}
}

// get returns the live connection for key, dialling it if there is none. A dead connection,
// or one whose host key its known_hosts no longer accepts, is dropped from the pool here, so
// the next caller re-dials (and a revoked key then fails the handshake).
func (p *pool) get(ctx context.Context, key string, dial dialFunc) (*conn, error) {
	// The host key check stats files: it runs outside the lock, so callers of other
	// connections never wait for it.
	if c := p.pooled(key); c != nil {
		if c.trusted() {
			return c, nil
		}
		// A revoked key must not keep a connection made before the revocation in use.
		p.drop(key, c)
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil, ErrClosed
	}
	if c := p.conns[key]; c != nil && c.alive() {
		p.mu.Unlock()
		return c, nil // another caller re-dialled meanwhile
	}
	delete(p.conns, key)
	call := p.dials[key]
	if call == nil {
		call = &dialCall{done: make(chan struct{})}
		p.dials[key] = call
		go p.dial(key, call, dial)
	}
	p.mu.Unlock()
	select {
	case <-call.done:
		return call.c, call.err
	case <-ctx.Done():
		return nil, fmt.Errorf("waiting for connection: %w", ctx.Err())
	}
}

// pooled returns the live pooled connection for key, or nil.
func (p *pool) pooled(key string) *conn {
	p.mu.Lock()
	defer p.mu.Unlock()
	if c := p.conns[key]; c != nil && c.alive() && !p.closed {
		return c
	}
	return nil
}

// drop closes c and removes it from the pool if it is still key's connection.
func (p *pool) drop(key string, c *conn) {
	c.close()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.conns[key] == c {
		delete(p.conns, key)
	}
}

func (p *pool) dial(key string, call *dialCall, dial dialFunc) {
	c, err := dial(p.ctx)
	p.mu.Lock()
	delete(p.dials, key)
	if err == nil && p.closed {
		c.close()
		c, err = nil, ErrClosed
	}
	if err == nil {
		p.conns[key] = c
	}
	p.mu.Unlock()
	call.c, call.err = c, err
	close(call.done)
}

// close closes every connection and fails dials in progress.
func (p *pool) close() {
	p.mu.Lock()
	p.closed = true
	conns := p.conns
	p.conns = map[string]*conn{}
	p.mu.Unlock()
	p.cancel()
	for _, c := range conns {
		c.close()
	}
}
