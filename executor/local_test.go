package executor_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/alaya-sre/alaya/executor"
	"github.com/alaya-sre/alaya/inventory"
)

var localHost = &inventory.Host{Endpoint: inventory.Endpoint{Name: "worker"}, Transport: inventory.TransportLocal}

func TestLocalRun(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		cmd        string
		opt        executor.RunOptions
		wantExit   int
		wantStdout string
		wantStderr string
		wantErr    error
	}{
		{"success", "echo hello", executor.RunOptions{}, 0, "hello\n", "", nil},
		{"non-zero exit is a result, not an error", "echo bad >&2; exit 4", executor.RunOptions{}, 4, "", "bad\n", nil},
		{"killed by a signal", "kill -TERM $$", executor.RunOptions{}, 128 + 15, "", "", nil},
		{"stdin", "tr a-z A-Z", executor.RunOptions{Stdin: strings.NewReader("quiet")}, 0, "QUIET", "", nil},
		{"timeout keeps partial output", "echo partial; sleep 30", executor.RunOptions{Timeout: 200 * time.Millisecond}, -1, "partial\n", "", executor.ErrTimeout},
		{"background process holding stdout does not hang", "sleep 30 & echo started", executor.RunOptions{Timeout: 5 * time.Second}, 0, "started\n", "", nil},
		{"output capped", "printf 0123456789abcdefghij", executor.RunOptions{MaxOutput: 10}, 0, "01234\n[... 10 bytes omitted ...]\nfghij", "", nil},
	}
	x := executor.NewLocal(executor.WithKillGrace(100 * time.Millisecond))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res, err := x.Run(t.Context(), localHost, tt.cmd, tt.opt)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("err = %v; want %v", err, tt.wantErr)
			}
			if res.ExitCode != tt.wantExit || string(res.Stdout) != tt.wantStdout || string(res.Stderr) != tt.wantStderr {
				t.Errorf("exit %d stdout %q stderr %q; want %d %q %q", res.ExitCode, res.Stdout, res.Stderr, tt.wantExit, tt.wantStdout, tt.wantStderr)
			}
			if res.Host != "worker" || res.Command != tt.cmd || res.Finished.Before(res.Started) {
				t.Errorf("result metadata %+v", res)
			}
		})
	}
}

// TestLocalTimeoutKillsProcessGroup: a timeout kills what the shell started, not only the shell.
func TestLocalTimeoutKillsProcessGroup(t *testing.T) {
	t.Parallel()
	marker := fmt.Sprintf("%d.%d", 800, time.Now().UnixNano()%1000000)
	_, err := executor.NewLocal().Run(t.Context(), localHost, "sleep "+marker+" & sleep "+marker+"; wait", executor.RunOptions{Timeout: 200 * time.Millisecond})
	if !errors.Is(err, executor.ErrTimeout) {
		t.Fatalf("err = %v", err)
	}
	waitGone(t, "sleep\x00"+marker)
}

func TestLocalCancel(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	res, err := executor.NewLocal().Run(ctx, localHost, "sleep 30", executor.RunOptions{})
	if !errors.Is(err, context.Canceled) || errors.Is(err, executor.ErrTimeout) || res.ExitCode != -1 {
		t.Fatalf("err = %v, exit %d; want context.Canceled", err, res.ExitCode)
	}
}

func TestLocalStream(t *testing.T) {
	t.Parallel()
	stdout, wait, err := executor.NewLocal().Stream(t.Context(), localHost, "seq 1 100000; echo done >&2")
	if err != nil {
		t.Fatal(err)
	}
	data, err := io.ReadAll(stdout)
	if err != nil {
		t.Fatal(err)
	}
	res, err := wait()
	if err != nil || res.ExitCode != 0 || string(res.Stderr) != "done\n" {
		t.Fatalf("%v exit %d stderr %q", err, res.ExitCode, res.Stderr)
	}
	if !strings.HasSuffix(string(data), "\n99999\n100000\n") {
		t.Errorf("stream ends %q", data[len(data)-20:])
	}
}

func TestRouter(t *testing.T) {
	t.Parallel()
	inv, err := inventory.Parse("inv.yaml", []byte("hosts:\n  - name: here\n    transport: local\n"))
	if err != nil {
		t.Fatal(err)
	}
	r := executor.New(inv, nil)
	defer r.Close()
	res, err := r.Run(t.Context(), inv.Hosts["here"], "echo routed", executor.RunOptions{})
	if err != nil || string(res.Stdout) != "routed\n" {
		t.Fatalf("%v %q", err, res.Stdout)
	}
	bad := &inventory.Host{Endpoint: inventory.Endpoint{Name: "odd"}, Transport: "telnet"}
	if _, err := r.Run(t.Context(), bad, "true", executor.RunOptions{}); err == nil {
		t.Fatal("unknown transport accepted")
	}
}

func TestRetryable(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err  error
		want bool
	}{
		{fmt.Errorf("x: %w", executor.ErrConnect), true},
		{fmt.Errorf("x: %w", executor.ErrHostKey), false},
		{fmt.Errorf("x: %w", executor.ErrAuth), false},
		{fmt.Errorf("x: %w", executor.ErrTimeout), false},
		{fmt.Errorf("x: %w: %w", executor.ErrAuth, executor.ErrConnect), false},
		{context.Canceled, false},
		{nil, false},
	}
	for _, tt := range tests {
		if got := executor.Retryable(tt.err); got != tt.want {
			t.Errorf("Retryable(%v) = %v", tt.err, got)
		}
	}
}
