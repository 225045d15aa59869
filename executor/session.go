package executor

import (
	"context"
	"errors"
	"fmt"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/sys/unix"
)

// runSession starts cmd and waits for it, for at most timeout (zero: until ctx ends). When time
// is up the remote process is sent SIGKILL and the session closed, which also ends the output
// copies; the session is then waited for at most grace, because x/crypto's Wait also waits
// for the stdin copy, which a blocking reader can hold forever.
func runSession(ctx context.Context, sess *ssh.Session, cmd string, timeout, grace time.Duration) (int, error) {
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	if err := start(ctx, sess, cmd); err != nil {
		if ctx.Err() != nil {
			return -1, interruption(ctx, timeout)
		}
		return -1, err
	}
	exited := make(chan error, 1)
	go func() { exited <- sess.Wait() }()
	select {
	case err := <-exited:
		return exitStatus(err)
	case <-ctx.Done():
	}
	// OpenSSH delivers "signal" requests to the process it started (since 7.9); exec in the
	// command, or a process group of its own, decides what else dies with it.
	_ = sess.Signal(ssh.SIGKILL)
	_ = sess.Close()
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-exited:
	case <-t.C:
	}
	return -1, interruption(ctx, timeout)
}

// newSession opens a session, giving up when ctx ends: opening waits for the server's reply
// and takes no context. A session that opens after we gave up is closed; a connection that
// never answers is closed by its keepalive, which also ends the wait.
func newSession(ctx context.Context, client *ssh.Client) (*ssh.Session, error) {
	type opened struct {
		sess *ssh.Session
		err  error
	}
	ch := make(chan opened, 1)
	go func() {
		s, err := client.NewSession()
		ch <- opened{s, err}
	}()
	select {
	case o := <-ch:
		return o.sess, o.err
	case <-ctx.Done():
		go func() {
			if o := <-ch; o.sess != nil {
				_ = o.sess.Close()
			}
		}()
		return nil, ctx.Err()
	}
}

// start starts cmd, giving up (and closing the session) when ctx ends: like opening, the
// exec request waits for the server's reply without a context.
func start(ctx context.Context, sess *ssh.Session, cmd string) error {
	done := make(chan error, 1)
	go func() { done <- sess.Start(cmd) }()
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("start: %w: %w", ErrConnect, err)
		}
		return nil
	case <-ctx.Done():
		_ = sess.Close()
		return fmt.Errorf("start: %w", ctx.Err())
	}
}

// interruption explains why a command was stopped early: its own timeout or the caller's
// deadline (ErrTimeout), or the caller's cancellation.
func interruption(ctx context.Context, timeout time.Duration) error {
	err := ctx.Err()
	switch {
	case errors.Is(err, context.Canceled):
		return fmt.Errorf("cancelled, command killed: %w", err)
	case timeout > 0:
		return fmt.Errorf("no exit within %s, command killed: %w: %w", timeout, ErrTimeout, err)
	}
	return fmt.Errorf("deadline reached, command killed: %w: %w", ErrTimeout, err)
}

// exitStatus turns what Session.Wait returned into an exit code. A command that exited, with
// any status or by a signal, completed; a session that ended without either lost its
// connection, and the command may or may not have run to the end.
func exitStatus(err error) (int, error) {
	var exit *ssh.ExitError
	var missing *ssh.ExitMissingError
	switch {
	case err == nil:
		return 0, nil
	case errors.As(err, &exit) && exit.Signal() != "":
		return 128 + int(unix.SignalNum("SIG"+exit.Signal())), nil
	case errors.As(err, &exit):
		return exit.ExitStatus(), nil
	case errors.As(err, &missing):
		return -1, fmt.Errorf("session ended without an exit status: %w: %w", ErrConnect, err)
	}
	return -1, fmt.Errorf("session: %w: %w", ErrConnect, err)
}
