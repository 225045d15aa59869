package actions

import (
	"context"
	"fmt"
	"strconv"
	"time"
)

// Member is one backend of a load balancer.
type Member struct {
	// Pool is the HAProxy backend, or the ELBv2 target group ARN.
	Pool string
	// Name is the HAProxy server name, or the ELBv2 target id (instance id or IP address).
	Name string
	// Port is the ELBv2 target port; 0 means the target group's port. HAProxy ignores it.
	Port int
}

func (m Member) String() string {
	if m.Port != 0 {
		return m.Name + ":" + strconv.Itoa(m.Port)
	}
	return m.Name
}

// MemberState is one member as the load balancer sees it now.
type MemberState struct {
	Name    string
	Port    int
	Healthy bool   // receiving new traffic and passing health checks
	State   string // the provider's own word: "UP", "MAINT", "draining", "healthy"...
	// Sessions is the number of open sessions when the provider knows it (HAProxy scur), or -1.
	Sessions int
}

// Balancer is a load-balancer provider (HAProxy runtime API, AWS ELBv2).
//
// Detach returns when the member receives no new traffic and its existing connections have
// drained; Attach returns when it is healthy again. wait bounds that waiting (0: the
// provider's default); it comes from the runbook's step. Both return a short account of what
// happened for the outcome's detail. Members lists the pool, so that the capacity guard can
// count before anything is touched.
type Balancer interface {
	Detach(ctx context.Context, m Member, wait time.Duration) (detail string, err error)
	Attach(ctx context.Context, m Member, wait time.Duration) (detail string, err error)
	Members(ctx context.Context, pool string) ([]MemberState, error)
}

// Healthy returns the names of the healthy members of pool.
func Healthy(ctx context.Context, b Balancer, pool string) ([]string, error) {
	ms, err := b.Members(ctx, pool)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, m := range ms {
		if m.Healthy {
			out = append(out, m.Name)
		}
	}
	return out, nil
}

// LBParams are a lb_detach or lb_attach step's parameters for one host.
type LBParams struct {
	Member Member
	// MinHealthy is the runbook's minimum of healthy members that must remain after a detach.
	MinHealthy int
	// Wait bounds draining (detach) or becoming healthy (attach); 0: the provider's default.
	Wait time.Duration
}

// ParseLBParams reads a step's rendered parameters, as the runbook language writes them:
// backend and server (HAProxy) or target_group_arn, target_id and port (ELBv2); min_healthy
// and wait. The member defaults to the host's name. Choosing the provider (provider, lb_host,
// socket) is the caller's business; see package actions/balancers.
func ParseLBParams(host string, p map[string]string) (LBParams, error) {
	out := LBParams{Member: Member{Pool: first(p, "backend", "target_group_arn", "pool"), Name: first(p, "server", "target_id", "member")}}
	if out.Member.Name == "" {
		out.Member.Name = host
	}
	if out.Member.Pool == "" {
		return out, refusef("load balancer step for %s: parameter backend or target_group_arn is required", host)
	}
	var err error
	if out.Member.Port, err = intParam(p, "port", 0); err != nil {
		return out, err
	}
	if out.MinHealthy, err = intParam(p, "min_healthy", 1); err != nil {
		return out, err
	}
	out.Wait, err = durationParam(p, "wait")
	return out, err
}

// first is the first non-empty value among keys.
func first(p map[string]string, keys ...string) string {
	for _, k := range keys {
		if v := p[k]; v != "" {
			return v
		}
	}
	return ""
}

// intParam parses an optional integer parameter.
func intParam(p map[string]string, key string, def int) (int, error) {
	v, ok := p[key]
	if !ok || v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, refusef("parameter %s=%q is not a non-negative integer", key, v)
	}
	return n, nil
}

// checkCapacity is the capacity guard: it refuses a detach that would leave fewer healthy
// members than required, before anything is touched. It returns the states it read, for the
// outcome's detail.
func checkCapacity(ctx context.Context, b Balancer, who string, p LBParams) (string, error) {
	ms, err := b.Members(ctx, p.Member.Pool)
	if err != nil {
		return "", err
	}
	var found *MemberState
	healthy := 0
	for i := range ms {
		if ms[i].Healthy {
			healthy++
		}
		if ms[i].Name == p.Member.Name && (p.Member.Port == 0 || ms[i].Port == p.Member.Port) {
			found = &ms[i]
		}
	}
	if found == nil {
		return "", permanent("capacity guard", fmt.Errorf("%s is not a member of %s: %w", p.Member, p.Member.Pool, ErrNotFound))
	}
	remain := healthy
	if found.Healthy {
		remain--
	}
	if remain < p.MinHealthy {
		return "", refusef("refusing to detach %s: %d of %d would remain healthy, runbook requires %d",
			who, remain, len(ms), p.MinHealthy)
	}
	return fmt.Sprintf("before detach: %d of %d healthy, %s was %s", healthy, len(ms), who, found.State), nil
}
