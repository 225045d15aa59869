package haproxy

import (
	"context"
	"fmt"
	"time"

	"github.com/alaya-sre/alaya/actions"
)

// Balancer detaches and attaches servers of one HAProxy through its runtime API.
//
// Detach is drain, then wait for the server's sessions to end, then maint. Drain first so that
// requests in flight finish instead of being cut; maint afterwards because DRAIN still lets
// persistent (cookie/stick) clients in and still runs checks, while MAINT guarantees that no new
// traffic reaches the server and that HAProxy will not bring it back by itself. If sessions do
// not reach zero within DrainTimeout the server is put in maint anyway: MAINT does not cut open
// sessions, it only stops new ones, and the detail says how many were still open.
type Balancer struct {
	Client *Client
	// DrainTimeout bounds the wait for open sessions to end when the step gives no wait
	// (default 30s).
	DrainTimeout time.Duration
	// HealthyTimeout bounds the wait for an attached server to be UP when the step gives no
	// wait (default 60s).
	HealthyTimeout time.Duration
	// Poll is the interval between `show stat` reads while waiting (default 250ms).
	Poll time.Duration
}

var _ actions.Balancer = (*Balancer)(nil)

// Members lists the backend's servers.
func (b *Balancer) Members(ctx context.Context, pool string) ([]actions.MemberState, error) {
	servers, err := b.Client.Servers(ctx, pool)
	if err != nil {
		return nil, err
	}
	out := make([]actions.MemberState, len(servers))
	for i, s := range servers {
		out[i] = actions.MemberState{Name: s.Server, Healthy: s.Healthy(), State: s.Status, Sessions: s.Sessions}
	}
	return out, nil
}

// Detach drains m, waits for its sessions to end, and puts it in maintenance.
func (b *Balancer) Detach(ctx context.Context, m actions.Member, wait time.Duration) (string, error) {
	start := time.Now()
	if err := b.Client.SetState(ctx, m.Pool, m.Name, "drain"); err != nil {
		return "", err
	}
	left, err := b.waitFor(ctx, m, def(wait, def(b.DrainTimeout, 30*time.Second)), func(s ServerStat) bool { return s.Sessions == 0 })
	if err != nil && ctx.Err() != nil {
		return "drain set; interrupted before maint", err
	}
	if err := b.Client.SetState(ctx, m.Pool, m.Name, "maint"); err != nil {
		return "drain set; maint failed", err
	}
	took := time.Since(start).Round(time.Millisecond)
	if left.Sessions > 0 {
		return fmt.Sprintf("drain timed out after %s with %d sessions open; now MAINT (open sessions continue)", took, left.Sessions), nil
	}
	return fmt.Sprintf("drained in %s; now MAINT", took), nil
}

// Attach sets m ready and waits until HAProxy considers it UP.
func (b *Balancer) Attach(ctx context.Context, m actions.Member, wait time.Duration) (string, error) {
	start := time.Now()
	if err := b.Client.SetState(ctx, m.Pool, m.Name, "ready"); err != nil {
		return "", err
	}
	last, err := b.waitFor(ctx, m, def(wait, def(b.HealthyTimeout, 60*time.Second)), ServerStat.Healthy)
	if err != nil {
		return fmt.Sprintf("set ready; last status %q", last.Status), err
	}
	return fmt.Sprintf("ready; %s after %s", last.Status, time.Since(start).Round(time.Millisecond)), nil
}

// waitFor polls m's stat row until ok holds or limit passes, returning the last row seen. On
// timeout the error wraps actions.ErrTimeout.
func (b *Balancer) waitFor(ctx context.Context, m actions.Member, limit time.Duration, ok func(ServerStat) bool) (ServerStat, error) {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	tick := time.NewTicker(def(b.Poll, 250*time.Millisecond))
	defer tick.Stop()
	var last ServerStat
	for {
		s, err := b.server(ctx, m)
		if err == nil {
			last = s
			if ok(s) {
				return s, nil
			}
		}
		select {
		case <-ctx.Done():
			return last, actions.Retryable("haproxy wait", fmt.Errorf("%s/%s after %s (status %q, %d sessions): %w",
				m.Pool, m.Name, limit, last.Status, last.Sessions, actions.ErrTimeout))
		case <-tick.C:
		}
	}
}

// server reads one server's stat row.
func (b *Balancer) server(ctx context.Context, m actions.Member) (ServerStat, error) {
	servers, err := b.Client.Servers(ctx, m.Pool)
	if err != nil {
		return ServerStat{}, err
	}
	for _, s := range servers {
		if s.Server == m.Name {
			return s, nil
		}
	}
	return ServerStat{}, actions.Permanent("haproxy", fmt.Errorf("%s/%s: %w", m.Pool, m.Name, actions.ErrNotFound))
}

func def(d, fallback time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return fallback
}
