package executor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os/exec"
	"sync"
	"syscall"
	"time"

	"github.com/alaya-sre/alaya/inventory"
)

// Local runs commands on the worker itself with sh -c, with the same timeout and output-cap
// semantics as SSH. Each command gets its own process group, so a timeout kills everything
// the command started, not only the shell. For the demo and lab setups.
type Local struct {
	cfg config
}

// NewLocal returns the local executor. Of the options, only WithKillGrace applies.
func NewLocal(opts ...Option) *Local { return &Local{cfg: newConfig(opts)} }

// command prepares sh -c cmd in a new process group, killed as a whole when ctx ends.
// WaitDelay stops Wait from hanging on a background process that keeps the output pipes open.
func (l *Local) command(ctx context.Context, cmd string) *exec.Cmd {
	c := exec.CommandContext(ctx, "sh", "-c", cmd)
	c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	c.Cancel = func() error { return syscall.Kill(-c.Process.Pid, syscall.SIGKILL) }
	c.WaitDelay = l.cfg.killGrace
	return c
}

// Run runs cmd on the worker. See Executor.
func (l *Local) Run(ctx context.Context, h *inventory.Host, cmd string, opt RunOptions) (*Result, error) {
	res := newResult(h, cmd)
	runCtx := ctx
	if opt.Timeout > 0 {
		var cancel context.CancelFunc
		runCtx, cancel = context.WithTimeout(ctx, opt.Timeout)
		defer cancel()
	}
	stdout, stderr := newCapture(opt.maxOutput()), newCapture(opt.maxOutput())
	c := l.command(runCtx, cmd)
	c.Stdout, c.Stderr, c.Stdin = stdout, stderr, opt.Stdin
	werr := c.Run()
	res.Finished = time.Now()
	res.Stdout, res.StdoutTruncated = stdout.result()
	res.Stderr, res.StderrTruncated = stderr.result()
	var err error
	res.ExitCode, err = localStatus(runCtx, c, werr, opt.Timeout)
	return res, err
}

// localStatus turns what Cmd.Wait returned into an exit code, like exitStatus does for SSH.
func localStatus(ctx context.Context, c *exec.Cmd, werr error, timeout time.Duration) (int, error) {
	if ctx.Err() != nil {
		return -1, interruption(ctx, timeout)
	}
	var exit *exec.ExitError
	if werr != nil && !errors.As(werr, &exit) && !errors.Is(werr, exec.ErrWaitDelay) {
		return -1, fmt.Errorf("local: %w", werr)
	}
	if c.ProcessState == nil {
		return -1, fmt.Errorf("local: %w", werr)
	}
	if ws, ok := c.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal()), nil
	}
	return c.ProcessState.ExitCode(), nil
}

// Stream starts cmd on the worker and returns its stdout. See Executor.
func (l *Local) Stream(ctx context.Context, h *inventory.Host, cmd string) (io.ReadCloser, func() (*Result, error), error) {
	res := newResult(h, cmd)
	c := l.command(ctx, cmd)
	stderr := newCapture(DefaultMaxOutput)
	c.Stderr = stderr
	stdout, err := c.StdoutPipe()
	if err != nil {
		return nil, nil, fmt.Errorf("local: %w", err)
	}
	if err := c.Start(); err != nil {
		return nil, nil, fmt.Errorf("local: %w", err)
	}
	kill := func() { _ = syscall.Kill(-c.Process.Pid, syscall.SIGKILL) }
	r := &stream{r: stdout, kill: kill}
	wait := sync.OnceValues(func() (*Result, error) {
		werr := c.Wait()
		res.Finished = time.Now()
		res.Stderr, res.StderrTruncated = stderr.result()
		var err error
		res.ExitCode, err = localStatus(ctx, c, werr, 0)
		return res, err
	})
	return r, wait, nil
}

// DialUnix connects to a Unix socket on the worker.
func (l *Local) DialUnix(ctx context.Context, _ *inventory.Host, socketPath string) (net.Conn, error) {
	var d net.Dialer
	return d.DialContext(ctx, "unix", socketPath)
}

// Close does nothing: the local executor holds no connections.
func (l *Local) Close() error { return nil }
