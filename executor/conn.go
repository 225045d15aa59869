package executor

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/ssh"
)

// conn is one pooled SSH connection: to a bastion, or to a target through its bastions.
type conn struct {
	client   *ssh.Client
	hop      hop
	parent   *conn         // the bastion connection this one runs through; nil for the first hop
	sessions chan struct{} // one token per open session; nil when sessions are not capped
	done     chan struct{} // closed once the connection is gone
	closed   atomic.Bool   // set by close, before done is closed, so the pool stops handing it out
	once     sync.Once
	trust    *hostTrust // the host key its handshake accepted; nil: not checked again
}

// trusting records the host key trust the connection was made under.
func (c *conn) trusting(t *hostTrust) *conn {
	c.trust = t
	return c
}

// trusted reports whether every hop's known_hosts still accepts the key it presented: a key
// revoked or replaced after the connection was made ends its reuse.
func (c *conn) trusted() bool {
	for ; c != nil; c = c.parent {
		if !c.trust.still() {
			return false
		}
	}
	return true
}

func newConn(client *ssh.Client, h hop, parent *conn, maxSessions int) *conn {
	c := &conn{client: client, hop: h, parent: parent, done: make(chan struct{})}
	if maxSessions > 0 {
		c.sessions = make(chan struct{}, maxSessions)
	}
	go func() {
		_ = client.Wait()
		close(c.done)
	}()
	return c
}

// alive reports whether the connection has not been seen to end.
func (c *conn) alive() bool {
	if c.closed.Load() {
		return false
	}
	select {
	case <-c.done:
		return false
	default:
		return true
	}
}

// close ends the connection; channels through it (targets behind a bastion) end with it.
func (c *conn) close() {
	c.closed.Store(true)
	c.once.Do(func() { _ = c.client.Close() })
}

// acquire waits for a session slot, so that sshd's MaxSessions is never exceeded: sshd refuses
// the extra session instead of queueing it.
func (c *conn) acquire(ctx context.Context) error {
	if c.sessions == nil {
		return nil
	}
	select {
	case c.sessions <- struct{}{}:
		return nil
	case <-c.done:
		return ErrConnect
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (c *conn) release() {
	if c.sessions != nil {
		<-c.sessions
	}
}

// keepalive probes the connection every interval until it ends, and closes it when a probe
// gets no answer within the interval: a dropped NAT entry or a dead bastion is then found
// before a command needs the connection, not by a command hanging.
func (c *conn) keepalive(every time.Duration, log *slog.Logger) {
	if every <= 0 {
		return
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-c.done:
			return
		case <-t.C:
		}
		if !c.ping(every) {
			log.Warn("ssh keepalive unanswered, closing connection", "hop", c.hop.String())
			c.close()
			return
		}
	}
}

// ping sends keepalive@openssh.com. sshd answers it with a failure reply, which still proves
// the connection is alive; only an error or silence count.
func (c *conn) ping(timeout time.Duration) bool {
	answered := make(chan error, 1)
	go func() {
		_, _, err := c.client.SendRequest("keepalive@openssh.com", true, nil)
		answered <- err
	}()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case err := <-answered:
		return err == nil
	case <-timer.C:
		return false
	case <-c.done:
		return false
	}
}
