package actions

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/alaya-sre/alaya/evidence"
	"github.com/alaya-sre/alaya/executor"
	"github.com/alaya-sre/alaya/inventory"
)

// Runner runs a command on a host; the executor implements it (SSH through the bastion, or
// local). A non-zero exit is a Result, not an error.
type Runner interface {
	Run(ctx context.Context, h *inventory.Host, cmd string, opt executor.RunOptions) (*executor.Result, error)
}

// Streamer also streams a command's stdout, for files too large to hold (heap dumps).
type Streamer interface {
	Runner
	Stream(ctx context.Context, h *inventory.Host, cmd string) (io.ReadCloser, func() (*executor.Result, error), error)
}

// ObjectStore is where heap dumps go; evidence.Store implements it.
type ObjectStore interface {
	Put(ctx context.Context, key string, r io.Reader, opt evidence.PutOptions) (evidence.Object, error)
}

// run executes cmd on h, records it in o, and turns a non-zero exit into an error carrying
// the command's stderr (or stdout) so the reason reaches the incident.
func run(ctx context.Context, r Runner, h *inventory.Host, o *Outcome, cmd string, timeout time.Duration) (*executor.Result, error) {
	o.ran(cmd)
	res, err := r.Run(ctx, h, cmd, executor.RunOptions{Timeout: timeout, MaxOutput: 64 << 10})
	if err != nil {
		return res, retryable(firstWord(cmd), err)
	}
	if res.ExitCode != 0 {
		return res, &ExitError{Command: cmd, Code: res.ExitCode, Output: lastLine(res)}
	}
	return res, nil
}

// ExitError is a remote command that ran and exited non-zero.
type ExitError struct {
	Command string
	Code    int
	Output  string // the last line of stderr, or of stdout when stderr was empty
}

func (e *ExitError) Error() string {
	if e.Output == "" {
		return fmt.Sprintf("%s: exit %d", firstWord(e.Command), e.Code)
	}
	name := firstWord(e.Command)
	return fmt.Sprintf("%s: exit %d: %s", name, e.Code, strings.TrimPrefix(e.Output, name+": "))
}

// lastLine is the most telling line of a failed command's output.
func lastLine(res *executor.Result) string {
	out := strings.TrimSpace(string(res.Stderr))
	if out == "" {
		out = strings.TrimSpace(string(res.Stdout))
	}
	if i := strings.LastIndexByte(out, '\n'); i >= 0 {
		out = out[i+1:]
	}
	if len(out) > 200 {
		out = out[:200] + "…"
	}
	return out
}

// firstWord names a command in errors without repeating all its arguments.
func firstWord(cmd string) string {
	f := strings.Fields(cmd)
	for len(f) > 1 && (f[0] == "sudo" || strings.HasPrefix(f[0], "-")) {
		f = f[1:]
	}
	if len(f) == 0 {
		return cmd
	}
	return f[0]
}
