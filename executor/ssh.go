package executor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/alaya-sre/alaya/inventory"
)

// SSH runs commands over SSH on pooled connections, through each host's bastions.
// It is safe for concurrent use.
type SSH struct {
	inv      *inventory.Inventory
	log      *slog.Logger
	cfg      config
	keys     *keyring
	hostKeys *knownHostsDB
	pool     *pool
	stats    stats
}

// NewSSH returns an SSH executor for the hosts of inv. Connections are made on first use and
// kept until Close. Private keys are read once, when first needed; known_hosts files are read
// again whenever they change, and a pooled connection whose key they no longer accept is
// closed instead of reused.
func NewSSH(inv *inventory.Inventory, logger *slog.Logger, opts ...Option) *SSH {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &SSH{
		inv: inv, log: logger, cfg: newConfig(opts),
		keys: newKeyring(), hostKeys: newKnownHostsDB(), pool: newPool(),
	}
	if reg := s.cfg.registerer; reg != nil {
		if err := reg.Register(collector{s}); err != nil {
			logger.Warn("executor metrics not registered", "err", err)
		}
	}
	return s
}

// Run runs cmd on h and waits for it. See Executor.
func (s *SSH) Run(ctx context.Context, h *inventory.Host, cmd string, opt RunOptions) (*Result, error) {
	res := newResult(h, cmd)
	defer func() { res.Finished = time.Now() }()
	sess, release, err := s.session(ctx, h)
	if err != nil {
		s.stats.ran(err)
		return res, err
	}
	defer release()
	defer sess.Close()
	stdout, stderr := newCapture(opt.maxOutput()), newCapture(opt.maxOutput())
	sess.Stdout, sess.Stderr = stdout, stderr
	if opt.Stdin != nil {
		sess.Stdin = opt.Stdin
	}
	res.ExitCode, err = runSession(ctx, sess, cmd, opt.Timeout, s.cfg.killGrace)
	res.Stdout, res.StdoutTruncated = stdout.result()
	res.Stderr, res.StderrTruncated = stderr.result()
	s.stats.ran(err)
	if err != nil {
		return res, fmt.Errorf("host %s: %w", h.Name, err)
	}
	return res, nil
}

// session opens a session on h's connection once a session slot is free. A connection found
// broken here is closed and re-dialled once: that is how a connection that died while idle
// is usually noticed. The returned func releases the slot.
func (s *SSH) session(ctx context.Context, h *inventory.Host) (*ssh.Session, func(), error) {
	redialled, refusals := false, 0
	for {
		c, err := s.connFor(ctx, h)
		if err != nil {
			return nil, nil, err
		}
		if err := c.acquire(ctx); err != nil {
			if ctx.Err() != nil || redialled {
				return nil, nil, fmt.Errorf("%s: waiting for a free session: %w", c.hop, err)
			}
			redialled = true // the connection died while we waited
			continue
		}
		sess, err := newSession(ctx, c.client)
		if err == nil {
			return sess, c.release, nil
		}
		c.release()
		var refused *ssh.OpenChannelError
		switch {
		case errors.As(err, &refused):
			refusals++
			s.stats.sessionRefusals.Add(1)
			if err := s.refusedSession(ctx, c, h, refusals, err); err != nil {
				return nil, nil, err
			}
		case ctx.Err() != nil:
			return nil, nil, fmt.Errorf("%s: open session: %w", c.hop, ctx.Err())
		case !redialled:
			redialled = true
			s.log.Info("ssh connection broken, re-dialling", "hop", c.hop.String(), "err", err)
			c.close()
		default:
			return nil, nil, fmt.Errorf("%s: open session: %w: %w", c.hop, ErrConnect, err)
		}
	}
}

// refusedSession waits before asking again for a session sshd refused. sshd frees a session's
// slot a moment after the session closed, so a burst of commands can briefly meet its
// MaxSessions although no more than h.MaxSessions are ever open. Persistent refusals mean
// the host's sshd allows fewer sessions than the inventory says.
func (s *SSH) refusedSession(ctx context.Context, c *conn, h *inventory.Host, refusals int, err error) error {
	if refusals > 8 {
		return fmt.Errorf("%s: sshd refused %d sessions (is its MaxSessions below max_sessions %d?): %w: %w",
			c.hop, refusals, h.MaxSessions, ErrConnect, err)
	}
	t := time.NewTimer(time.Duration(refusals*refusals) * 5 * time.Millisecond)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("%s: open session: %w", c.hop, ctx.Err())
	}
}

// DialUnix connects to the Unix socket socketPath on h, through h's SSH connection (OpenSSH's
// direct-streamlocal channel), for example the HAProxy runtime API on a load balancer. The
// target's sshd must allow stream-local forwarding and the login user must be allowed to
// connect to the socket. Closing the returned conn closes only its channel.
func (s *SSH) DialUnix(ctx context.Context, h *inventory.Host, socketPath string) (net.Conn, error) {
	for attempt := 0; ; attempt++ {
		c, err := s.connFor(ctx, h)
		if err != nil {
			return nil, err
		}
		nc, err := c.client.DialContext(ctx, "unix", socketPath)
		if err == nil {
			return nc, nil
		}
		var refused *ssh.OpenChannelError
		switch {
		case errors.As(err, &refused):
			return nil, fmt.Errorf("%s: unix socket %s: %w", c.hop, socketPath, err)
		case ctx.Err() != nil || attempt > 0:
			return nil, fmt.Errorf("%s: unix socket %s: %w: %w", c.hop, socketPath, ErrConnect, err)
		}
		c.close()
	}
}

// Close closes every pooled connection. Commands still running fail with ErrConnect.
func (s *SSH) Close() error {
	s.pool.close()
	return nil
}

// Stream starts cmd on h and returns its stdout as a stream. See Executor.
func (s *SSH) Stream(ctx context.Context, h *inventory.Host, cmd string) (io.ReadCloser, func() (*Result, error), error) {
	res := newResult(h, cmd)
	sess, release, err := s.session(ctx, h)
	if err != nil {
		return nil, nil, err
	}
	stdout, err := sess.StdoutPipe()
	if err != nil {
		sess.Close()
		release()
		return nil, nil, fmt.Errorf("host %s: stdout: %w", h.Name, err)
	}
	stderr := newCapture(DefaultMaxOutput)
	sess.Stderr = stderr
	if err := start(ctx, sess, cmd); err != nil {
		sess.Close()
		release()
		return nil, nil, fmt.Errorf("host %s: %w", h.Name, err)
	}
	kill := func() { _ = sess.Signal(ssh.SIGKILL); _ = sess.Close() }
	stop := context.AfterFunc(ctx, kill)
	r := &stream{r: stdout, kill: kill}
	wait := sync.OnceValues(func() (*Result, error) {
		werr := sess.Wait()
		interrupted := !stop()
		sess.Close()
		release()
		res.Finished = time.Now()
		res.Stderr, res.StderrTruncated = stderr.result()
		res.ExitCode, err = exitStatus(werr)
		if interrupted {
			res.ExitCode, err = -1, interruption(ctx, 0)
		}
		s.stats.ran(err)
		if err != nil {
			return res, fmt.Errorf("host %s: %w", h.Name, err)
		}
		return res, nil
	})
	return r, wait, nil
}

// stream is a command's stdout; closing it before EOF kills the command.
type stream struct {
	r    io.Reader
	kill func()
	mu   sync.Mutex
	eof  bool
}

func (s *stream) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if err == io.EOF {
		s.mu.Lock()
		s.eof = true
		s.mu.Unlock()
	}
	return n, err
}

func (s *stream) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.eof {
		s.kill()
	}
	return nil
}
