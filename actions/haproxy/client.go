package haproxy

import (
	"context"
	"fmt"
	"io"
	"net"
	"regexp"
	"strings"
	"time"

	"github.com/alaya-sre/alaya/actions"
	"github.com/alaya-sre/alaya/inventory"
)

// maxReply caps what is read from one reply; `show stat` of a large config is well below it.
const maxReply = 8 << 20

// Dialer opens a fresh connection to the runtime API socket.
type Dialer func(ctx context.Context) (net.Conn, error)

// Local dials a socket on the worker's own machine.
func Local(path string) Dialer {
	return func(ctx context.Context) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", path)
	}
}

// UnixDialer opens a Unix socket on a remote host; the executor's SSH transport implements it
// through the bastion.
type UnixDialer interface {
	DialUnix(ctx context.Context, h *inventory.Host, socketPath string) (net.Conn, error)
}

// Remote dials the socket at path on the load-balancer host h through d.
func Remote(d UnixDialer, h *inventory.Host, path string) Dialer {
	return func(ctx context.Context) (net.Conn, error) { return d.DialUnix(ctx, h, path) }
}

// Client speaks the runtime API.
type Client struct {
	Dial Dialer
	// Timeout bounds one command when ctx has no earlier deadline.
	Timeout time.Duration
}

// Command sends one command and returns HAProxy's reply. A reply is not checked here: HAProxy
// reports most errors as text on a successful connection.
func (c *Client) Command(ctx context.Context, cmd string) (string, error) {
	if strings.ContainsAny(cmd, ";\n\r") {
		// ';' separates commands in the runtime API; a name must never smuggle a second one.
		return "", actions.Permanent("haproxy", fmt.Errorf("command %q contains a separator", cmd))
	}
	ctx, cancel := c.bound(ctx)
	defer cancel()
	conn, err := c.Dial(ctx)
	if err != nil {
		return "", actions.Retryable("haproxy dial", err)
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	if d, ok := ctx.Deadline(); ok {
		conn.SetDeadline(d)
	}
	if _, err := io.WriteString(conn, cmd+"\n"); err != nil {
		return "", actions.Retryable("haproxy write", err)
	}
	reply, err := io.ReadAll(io.LimitReader(conn, maxReply))
	if err != nil {
		return "", actions.Retryable("haproxy read", fmt.Errorf("%s: %w", cmd, err))
	}
	return string(reply), nil
}

func (c *Client) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	t := c.Timeout
	if t <= 0 {
		t = 10 * time.Second
	}
	return context.WithTimeout(ctx, t)
}

// validName is what HAProxy accepts in proxy and server names; checking it keeps spaces and
// separators out of runtime commands.
var validName = regexp.MustCompile(`^[A-Za-z0-9._:-]+$`)

// SetState sets backend/server to state ("ready", "drain" or "maint"). Any reply text is an
// error: HAProxy answers success with an empty line, and "No such server." otherwise.
func (c *Client) SetState(ctx context.Context, backend, server, state string) error {
	if !validName.MatchString(backend) || !validName.MatchString(server) {
		return actions.Permanent("haproxy", fmt.Errorf("invalid backend/server name %q/%q: %w", backend, server, actions.ErrRefused))
	}
	cmd := fmt.Sprintf("set server %s/%s state %s", backend, server, state)
	reply, err := c.Command(ctx, cmd)
	if err != nil {
		return err
	}
	return replyError(cmd, reply)
}

// replyError turns a non-empty reply to a `set` command into a classified error.
func replyError(cmd, reply string) error {
	msg := strings.TrimSpace(reply)
	if msg == "" {
		return nil
	}
	if strings.HasPrefix(msg, "No such") {
		return actions.Permanent("haproxy", fmt.Errorf("%s: %s: %w", cmd, msg, actions.ErrNotFound))
	}
	return actions.Permanent("haproxy", fmt.Errorf("%s: %s", cmd, msg))
}
