package actions

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// LBDetach takes p.Member out of its load balancer on behalf of host, after the capacity guard
// allowed it. Once the provider was asked to change anything, the outcome says the member is
// still detached, even on failure: a half-done detach must be undone by a person or an attach.
func LBDetach(ctx context.Context, b Balancer, host string, p LBParams) (Outcome, error) {
	o := begin(KindLBDetach, host)
	o.Pool, o.Member = p.Member.Pool, p.Member.String()
	who, pool := label(host, p.Member), ShortPool(p.Member.Pool)
	before, err := checkCapacity(ctx, b, who, p)
	if err != nil {
		if errors.Is(err, ErrRefused) {
			return o.finish(err, "%s", err.Error())
		}
		return o.finish(err, "could not check capacity of %s before detaching %s", pool, who)
	}
	o.note("%s", before)
	o.ran(fmt.Sprintf("detach %s from %s", o.Member, p.Member.Pool))
	o.StillDetached = true
	detail, err := b.Detach(ctx, p.Member, p.Wait)
	if detail != "" {
		o.note("%s", detail)
	}
	if err != nil {
		return o.finish(err, "detaching %s from %s failed; it may be out of rotation", who, pool)
	}
	return o.finish(nil, "detached %s from %s", who, pool)
}

// LBAttach puts p.Member back into its load balancer and waits until it is healthy. If that
// does not happen the outcome says the member is still detached.
func LBAttach(ctx context.Context, b Balancer, host string, p LBParams) (Outcome, error) {
	o := begin(KindLBAttach, host)
	o.Pool, o.Member = p.Member.Pool, p.Member.String()
	who, pool := label(host, p.Member), ShortPool(p.Member.Pool)
	o.ran(fmt.Sprintf("attach %s to %s", o.Member, p.Member.Pool))
	detail, err := b.Attach(ctx, p.Member, p.Wait)
	if detail != "" {
		o.note("%s", detail)
	}
	if err != nil {
		o.StillDetached = true
		return o.finish(err, "attaching %s to %s failed; it is still out of rotation", who, pool)
	}
	return o.finish(nil, "attached %s to %s, healthy", who, pool)
}

// StillDetached returns, from a run's outcomes in execution order, the detaches that no later
// successful attach of the same member undid. The pipeline calls it when a run ends (failed or
// not) to say on the incident which hosts are still out of rotation.
func StillDetached(outcomes []Outcome) []Outcome {
	type key struct{ pool, member string }
	open := map[key]Outcome{}
	seen := map[key]bool{}
	var order []key
	for _, o := range outcomes {
		k := key{o.Pool, o.Member}
		switch {
		case o.Kind == KindLBDetach && o.StillDetached:
			if !seen[k] {
				seen[k] = true
				order = append(order, k)
			}
			open[k] = o
		case o.Kind == KindLBAttach && o.OK:
			delete(open, k)
		}
	}
	var out []Outcome
	for _, k := range order {
		if o, ok := open[k]; ok {
			out = append(out, o)
		}
	}
	return out
}

// DetachedLine is the incident line for a member left out of rotation.
func DetachedLine(o Outcome) string {
	return fmt.Sprintf("⚠ %s is STILL DETACHED from %s (since %s, step %s on %s): attach it when safe",
		o.Member, ShortPool(o.Pool), o.Started.UTC().Format("15:04:05Z"), o.Step, o.Host)
}

// label names a member for people: the host, with the provider's id when that differs
// ("app-3 (i-0abc)").
func label(host string, m Member) string {
	if m.Name == host || host == "" {
		return m.String()
	}
	return host + " (" + m.String() + ")"
}

// ShortPool shortens an ELBv2 target group ARN to "targetgroup/NAME" for phone-sized lines;
// other pool names are returned unchanged.
func ShortPool(pool string) string {
	if !strings.HasPrefix(pool, "arn:") {
		return pool
	}
	res := pool[strings.LastIndex(pool, ":")+1:]
	if parts := strings.Split(res, "/"); len(parts) == 3 {
		return parts[0] + "/" + parts[1]
	}
	return res
}
