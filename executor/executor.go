package executor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"time"

	"github.com/alaya-sre/alaya/inventory"
)

// DefaultMaxOutput is the per-stream output cap when RunOptions.MaxOutput is zero.
const DefaultMaxOutput = 1 << 20

// Result is what a command did. Run and Stream always return a Result, also with an error,
// so that a failed or timed-out step still has its partial output and timings as evidence.
type Result struct {
	Host    string
	Command string
	// Stdout and Stderr hold at most MaxOutput bytes of each stream. When a stream was longer,
	// its Truncated flag is set and the bytes are the first half and the last half of the
	// output joined by a line saying how many bytes were left out: the head usually says what
	// the command is, the tail what went wrong, and log tails matter most to responders.
	Stdout, Stderr                   []byte
	StdoutTruncated, StderrTruncated bool
	// ExitCode is the command's exit status; 128+n when a signal n ended it, as shells report
	// it; -1 when the command did not complete (connect failure, timeout, broken connection).
	ExitCode          int
	Started, Finished time.Time
}

// Duration is how long the command took.
func (r *Result) Duration() time.Duration { return r.Finished.Sub(r.Started) }

// RunOptions bound one command.
type RunOptions struct {
	Timeout   time.Duration // 0: bounded only by ctx
	MaxOutput int64         // per stream; 0 means DefaultMaxOutput
	Stdin     io.Reader     // nil: no input
}

func (o RunOptions) maxOutput() int64 {
	if o.MaxOutput <= 0 {
		return DefaultMaxOutput
	}
	return o.MaxOutput
}

// Executor runs commands on inventory hosts. A non-zero exit is NOT an error (see
// Result.ExitCode); errors mean the command could not run or finish (connect, auth, host key,
// timeout) and wrap one of ErrHostKey, ErrAuth, ErrConnect, ErrTimeout.
type Executor interface {
	Run(ctx context.Context, h *inventory.Host, cmd string, opt RunOptions) (*Result, error)
	// Stream starts cmd and returns its stdout as a stream, for output too large to hold
	// (heap dumps: gigabytes, never buffered whole). Read stdout to EOF, or Close it to abandon
	// the command, before calling wait. wait returns after the command exits, with its exit
	// code and capped stderr, or the error; it must be called once to release the session.
	// Cancelling ctx kills the command.
	Stream(ctx context.Context, h *inventory.Host, cmd string) (stdout io.ReadCloser, wait func() (*Result, error), err error)
	Close() error
}

var (
	_ Executor = (*Router)(nil)
	_ Executor = (*SSH)(nil)
	_ Executor = (*Local)(nil)
)

// Router sends each host to the executor for its transport: SSH or local.
type Router struct {
	SSH   *SSH
	Local *Local
}

// New returns the executor the worker uses: SSH for ssh hosts, the local shell for local ones.
func New(inv *inventory.Inventory, logger *slog.Logger, opts ...Option) *Router {
	return &Router{SSH: NewSSH(inv, logger, opts...), Local: NewLocal(opts...)}
}

func (r *Router) pick(h *inventory.Host) (Executor, error) {
	switch h.Transport {
	case inventory.TransportSSH, "":
		return r.SSH, nil
	case inventory.TransportLocal:
		return r.Local, nil
	}
	return nil, fmt.Errorf("host %s: unknown transport %q", h.Name, h.Transport)
}

// Run runs cmd on h with the executor for h's transport.
func (r *Router) Run(ctx context.Context, h *inventory.Host, cmd string, opt RunOptions) (*Result, error) {
	e, err := r.pick(h)
	if err != nil {
		res := newResult(h, cmd)
		res.Finished = res.Started
		return res, err
	}
	return e.Run(ctx, h, cmd, opt)
}

// Stream streams cmd's stdout from h with the executor for h's transport.
func (r *Router) Stream(ctx context.Context, h *inventory.Host, cmd string) (io.ReadCloser, func() (*Result, error), error) {
	e, err := r.pick(h)
	if err != nil {
		return nil, nil, err
	}
	return e.Stream(ctx, h, cmd)
}

// DialUnix connects to a Unix socket on h: through SSH (direct-streamlocal) for ssh hosts,
// directly for local ones. The HAProxy runtime API is reached this way.
func (r *Router) DialUnix(ctx context.Context, h *inventory.Host, socketPath string) (net.Conn, error) {
	if h.Transport == inventory.TransportLocal {
		return r.Local.DialUnix(ctx, h, socketPath)
	}
	return r.SSH.DialUnix(ctx, h, socketPath)
}

// Close closes every pooled connection.
func (r *Router) Close() error {
	return errors.Join(r.SSH.Close(), r.Local.Close())
}

func newResult(h *inventory.Host, cmd string) *Result {
	res := &Result{Command: cmd, ExitCode: -1, Started: time.Now()}
	if h != nil {
		res.Host = h.Name
	}
	return res
}
