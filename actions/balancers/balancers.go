// Package balancers turns a lb_detach or lb_attach step's parameters into the provider that
// carries it out, so the pipeline does not need to tell HAProxy from ELBv2. It is separate
// from package actions because the providers import actions.
package balancers

import (
	"context"
	"fmt"
	"time"

	"github.com/alaya-sre/alaya/actions"
	"github.com/alaya-sre/alaya/actions/elbv2"
	"github.com/alaya-sre/alaya/actions/haproxy"
	"github.com/alaya-sre/alaya/inventory"
)

// DefaultSocket is HAProxy's runtime API socket when a step names none (Debian's default).
const DefaultSocket = "/run/haproxy/admin.sock"

// HostLookup finds the load-balancer host; *inventory.Inventory implements it, so lb_host
// must be in the inventory like any other host Alaya touches.
type HostLookup interface {
	Lookup(name string) (*inventory.Host, error)
}

// Deps are what the providers need.
type Deps struct {
	Hosts HostLookup
	// Dialer reaches HAProxy's socket on lb_host: the executor (locally for local hosts,
	// through the bastion for SSH hosts).
	Dialer haproxy.UnixDialer
	// ELBv2 is the AWS client (elasticloadbalancingv2.NewFromConfig); nil refuses elbv2
	// steps.
	ELBv2 elbv2.API
}

// For returns the Balancer a step's parameters name: provider "haproxy" (lb_host, socket) or
// "elbv2".
func For(d Deps, params map[string]string) (actions.Balancer, error) {
	switch p := params["provider"]; p {
	case "haproxy":
		h, err := d.Hosts.Lookup(params["lb_host"])
		if err != nil {
			return nil, actions.Permanent("haproxy lb_host", err)
		}
		socket := params["socket"]
		if socket == "" {
			socket = DefaultSocket
		}
		return &haproxy.Balancer{Client: &haproxy.Client{Dial: haproxy.Remote(d.Dialer, h, socket)}}, nil
	case "elbv2":
		if d.ELBv2 == nil {
			return nil, &actions.Refusal{Reason: "elbv2 step, but this worker has no AWS ELBv2 client configured"}
		}
		return &elbv2.Balancer{API: d.ELBv2}, nil
	default:
		return nil, &actions.Refusal{Reason: fmt.Sprintf("unknown load balancer provider %q (expected haproxy or elbv2)", p)}
	}
}

// Detach runs a lb_detach step for host.
func Detach(ctx context.Context, d Deps, host string, params map[string]string) (actions.Outcome, error) {
	return run(ctx, d, host, params, actions.KindLBDetach, actions.LBDetach)
}

// Attach runs a lb_attach step for host.
func Attach(ctx context.Context, d Deps, host string, params map[string]string) (actions.Outcome, error) {
	return run(ctx, d, host, params, actions.KindLBAttach, actions.LBAttach)
}

type lbAction func(context.Context, actions.Balancer, string, actions.LBParams) (actions.Outcome, error)

func run(ctx context.Context, d Deps, host string, params map[string]string, kind string, act lbAction) (actions.Outcome, error) {
	b, err := For(d, params)
	if err == nil {
		var p actions.LBParams
		if p, err = actions.ParseLBParams(host, params); err == nil {
			return act(ctx, b, host, p)
		}
	}
	now := time.Now()
	return actions.Outcome{Kind: kind, Host: host, Started: now, Finished: now,
		Summary: fmt.Sprintf("%s on %s not started: %v", kind, host, err), Detail: err.Error()}, err
}
