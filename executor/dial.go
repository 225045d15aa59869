package executor

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/alaya-sre/alaya/inventory"
)

// connFor returns the pooled connection to h, dialling h and its bastions as needed.
// Targets are pooled by host name; bastions by their whole chain, so that every target
// behind the same bastion shares one bastion connection.
func (s *SSH) connFor(ctx context.Context, h *inventory.Host) (*conn, error) {
	route := s.inv.Route(h)
	target := hop{role: "target", name: h.Name, addr: hostPort(&h.Endpoint)}
	return s.pool.get(ctx, "host/"+h.Name, func(ctx context.Context) (*conn, error) {
		client, parent, trust, err := s.dialThrough(ctx, target, &h.Endpoint, func(ctx context.Context) (*conn, error) {
			if len(route) == 0 {
				return nil, nil
			}
			return s.bastionConn(ctx, route)
		})
		if err != nil {
			return nil, err
		}
		return s.watch(newConn(client, target, parent, h.MaxSessions).trusting(trust)), nil
	})
}

// bastionConn returns the pooled connection to the last bastion of route, through the others.
func (s *SSH) bastionConn(ctx context.Context, route []*inventory.Bastion) (*conn, error) {
	names := make([]string, len(route))
	for i, b := range route {
		names[i] = b.Name
	}
	last := route[len(route)-1]
	h := hop{role: "bastion", name: last.Name, addr: hostPort(&last.Endpoint)}
	return s.pool.get(ctx, "bastion/"+strings.Join(names, "/"), func(ctx context.Context) (*conn, error) {
		client, parent, trust, err := s.dialThrough(ctx, h, &last.Endpoint, func(ctx context.Context) (*conn, error) {
			if len(route) == 1 {
				return nil, nil
			}
			return s.bastionConn(ctx, route[:len(route)-1])
		})
		if err != nil {
			return nil, err
		}
		return s.watch(newConn(client, h, parent, 0).trusting(trust)), nil
	})
}

// dialThrough dials h through the connection parentOf returns (nil: directly). A pooled parent
// can be dead before its reader has noticed; dialHop then closes it, and the dial is tried
// once more through a fresh one.
func (s *SSH) dialThrough(ctx context.Context, h hop, ep *inventory.Endpoint, parentOf dialFunc) (*ssh.Client, *conn, *hostTrust, error) {
	for attempt := 0; ; attempt++ {
		parent, err := parentOf(ctx)
		if err != nil {
			return nil, nil, nil, err
		}
		client, trust, err := s.dialHop(ctx, parent, h, ep)
		if err == nil || parent == nil || parent.alive() || attempt > 0 {
			return client, parent, trust, err
		}
		s.log.Info("ssh connection broken, re-dialling", "hop", parent.hop.String(), "err", err)
	}
}

// hostPort is the endpoint's dial address, with IPv6 literals in brackets (as known_hosts
// and net.Dial both expect).
func hostPort(ep *inventory.Endpoint) string {
	return net.JoinHostPort(ep.Address, strconv.Itoa(ep.Port))
}

// watch starts the connection's keepalive.
func (s *SSH) watch(c *conn) *conn {
	go c.keepalive(s.cfg.keepalive, s.log)
	return c
}

// dialHop connects and logs in to one hop: directly when parent is nil, otherwise through the
// parent connection (a direct-tcpip channel from the bastion). Bounded by the connect timeout.
func (s *SSH) dialHop(ctx context.Context, parent *conn, h hop, ep *inventory.Endpoint) (*ssh.Client, *hostTrust, error) {
	cfg, trust, err := s.clientConfig(h, ep)
	if err != nil {
		return nil, nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, s.connectTimeout())
	defer cancel()
	start := time.Now()
	var raw net.Conn
	if parent == nil {
		var d net.Dialer
		raw, err = d.DialContext(ctx, "tcp", h.addr)
	} else {
		raw, err = parent.client.DialContext(ctx, "tcp", h.addr)
	}
	if err != nil {
		s.stats.dialFailed(h.role)
		var refused *ssh.OpenChannelError
		if parent != nil && !errors.As(err, &refused) && ctx.Err() == nil {
			parent.close() // the bastion connection itself failed, not the bastion's dial
		}
		return nil, nil, classifyDial(h, err)
	}
	client, err := handshake(ctx, raw, h, cfg)
	if err != nil {
		s.stats.dialFailed(h.role)
		return nil, nil, err
	}
	s.stats.dialed(h.role)
	s.log.Info("ssh connected", "hop", h.String(), "user", ep.User, "took", time.Since(start))
	return client, trust, nil
}

func (s *SSH) connectTimeout() time.Duration {
	if t := s.inv.Defaults.ConnectTimeout; t > 0 {
		return t
	}
	return 10 * time.Second
}

// clientConfig builds the login for one hop: its own user and key, its own known_hosts.
func (s *SSH) clientConfig(h hop, ep *inventory.Endpoint) (*ssh.ClientConfig, *hostTrust, error) {
	signer, err := s.keys.signer(ep.KeyFile)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w: %w", h, ErrAuth, err)
	}
	verify, algos, trust, err := s.hostKeys.verifier(h, ep.KnownHosts)
	if err != nil {
		return nil, nil, err
	}
	return &ssh.ClientConfig{
		User:              ep.User,
		Auth:              []ssh.AuthMethod{ssh.PublicKeys(signer)},
		HostKeyCallback:   verify,
		HostKeyAlgorithms: algos,
		ClientVersion:     "SSH-2.0-alaya",
	}, trust, nil
}

// handshake runs the SSH handshake on raw, bounded by ctx. The handshake takes no context,
// and a connection through a bastion (an SSH channel) does not support deadlines, so the
// bound is enforced by closing raw when ctx ends; a TCP connection also gets a deadline,
// cleared once the handshake is done.
func handshake(ctx context.Context, raw net.Conn, h hop, cfg *ssh.ClientConfig) (*ssh.Client, error) {
	if dl, ok := ctx.Deadline(); ok {
		_ = raw.SetDeadline(dl) // fails harmlessly on channels; the AfterFunc covers them
	}
	stop := context.AfterFunc(ctx, func() { _ = raw.Close() })
	c, chans, reqs, err := ssh.NewClientConn(raw, h.addr, cfg)
	if !stop() && err == nil {
		_ = c.Close()
		err = ctx.Err()
	}
	if err != nil {
		_ = raw.Close()
		var hk *hostKeyError
		if !errors.As(err, &hk) && ctx.Err() != nil {
			return nil, fmt.Errorf("%s: handshake did not finish in time: %w: %w", h, ErrConnect, ctx.Err())
		}
		return nil, classifyHandshake(h, cfg.User, err)
	}
	_ = raw.SetDeadline(time.Time{})
	return ssh.NewClient(c, chans, reqs), nil
}
