package remediate

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/alaya-sre/alaya/safety"
)

// Safety is the fleet-wide guard and its limits. With nil Safety nothing is limited beyond the
// runbook's own max_targets and concurrency (tests, and tools that replay a single run).
type Safety struct {
	Guard  *safety.Guard
	Limits safety.Limits
}

// storm counts an incoming incident and reports whether Alaya is in storm mode: more incidents
// than the threshold in the window. In a storm, runs do diagnostics only and propose nothing.
func (p *Pipeline) storm(ctx context.Context, incidentID string) bool {
	if p.Safety == nil {
		return false
	}
	storm, err := p.Safety.Guard.Storm(ctx, p.Safety.Limits, incidentID)
	if err != nil {
		p.Logger.WarnContext(ctx, "storm check failed; assuming a storm (diagnostics only)", "err", err)
		return true
	}
	if storm {
		p.Metrics.runs.WithLabelValues("", "storm").Inc()
	}
	return storm
}

// denial is why the fleet's limits refuse a change on a host now. One that passes with time
// or a person's act (a cooldown, a busy host, the action cap, a hold) is later: while the run
// has changed nothing since its gate, it gives the approval back (reopen.go).
type denial struct {
	why   string
	later bool
	until time.Time // when the change may be tried again, if known (a cooldown's end)
}

func failedCheck(err error) *denial { return &denial{why: "safety check failed: " + err.Error()} }

// guardAction decides whether a step that changes a system may run on host now, and takes
// what it needs to: the host's lease (held by the run until it finishes) and its cooldown.
// It returns why not, or nil. Any failure to check fails closed.
func (p *Pipeline) guardAction(ctx context.Context, run *Run, host string) *denial {
	if p.Safety == nil {
		return nil
	}
	g, rb := p.Safety.Guard, run.Runbook
	if h, err := g.Held(ctx, host); err != nil {
		return failedCheck(err)
	} else if h != nil {
		return &denial{later: true, why: fmt.Sprintf("%s is held: %s (run %s, step %s); a person must check the host, then `alaya holds clear %s`",
			host, h.Reason, h.Run, h.Step, host)}
	}
	until, cooling, err := g.Cooldown(ctx, rb.Name, host, run.ID, rb.Limits.Cooldown)
	if err != nil {
		return failedCheck(err)
	}
	if cooling {
		return &denial{later: true, until: until, why: fmt.Sprintf("cooldown: %s changed %s less than %s ago; next allowed after %s",
			rb.Name, host, rb.Limits.Cooldown, until.UTC().Format("15:04:05Z"))}
	}
	if err := p.leaseHost(ctx, run, host); err != nil {
		if errors.Is(err, safety.ErrHostBusy) {
			return &denial{later: true, why: err.Error()}
		}
		return failedCheck(err)
	}
	ok, err := g.AllowAction(ctx, p.Safety.Limits)
	if err != nil {
		return failedCheck(err)
	}
	if !ok {
		return &denial{later: true, why: fmt.Sprintf("action cap: more than %d system changes in %s across Alaya; ask a person",
			p.Safety.Limits.MaxActions, p.Safety.Limits.ActionWindow)}
	}
	if err := g.MarkRun(ctx, rb.Name, host, run.ID); err != nil {
		return failedCheck(err)
	}
	return nil
}

// hold keeps host out of further automatic changes after the step at key ended unknown, and
// has the note say so. Without Safety there is nowhere to keep it; the note still says unknown.
func (p *Pipeline) hold(ctx context.Context, run *Run, host, key string) {
	run.mu.Lock()
	already := slices.Contains(run.held, host)
	if !already {
		run.held = append(run.held, host)
	}
	run.mu.Unlock()
	if p.Safety == nil || already {
		return
	}
	hctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), finishWrite)
	defer cancel()
	err := p.Safety.Guard.HoldHost(hctx, safety.Hold{Host: host, Run: run.ID, Step: key, Since: time.Now(),
		Reason: "the outcome of a change is unknown"})
	if err != nil {
		p.Logger.ErrorContext(ctx, "host not put on hold after an unknown outcome", "run", run.ID, "host", host, "err", err)
	}
}

// leaseHost takes host's lease for the run, waiting up to Options.LeaseWait while another run
// changes the host (said on the incident once): a busy host delays an approved change instead
// of refusing it at once.
func (p *Pipeline) leaseHost(ctx context.Context, run *Run, host string) error {
	deadline := time.Now().Add(p.Options.LeaseWait)
	waiting := false
	for {
		err := run.lease(ctx, p.Safety.Guard, host, p.Options.LeaseRenew)
		if !errors.Is(err, safety.ErrHostBusy) {
			return err
		}
		if !time.Now().Before(deadline) {
			return fmt.Errorf("%w; waited %s for it", err, p.Options.LeaseWait)
		}
		if !waiting {
			waiting = true
			p.Logger.InfoContext(ctx, "waiting for a busy host", "run", run.ID, "host", host, "err", err)
			content := fmt.Sprintf("Alaya · %s: waiting up to %s for %s: %v.\nRun %s", run.Runbook.Name, p.Options.LeaseWait, host, err, run.ID)
			if nerr := p.note(ctx, run.ID+".wait."+host, run.Event.Incident.ID, content); nerr != nil {
				p.Logger.WarnContext(ctx, "waiting note not queued", "run", run.ID, "err", nerr)
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(min(leaseRetry, p.Options.LeaseWait)):
		}
	}
}

// leaseRetry is how often a busy host's lease is asked for again.
const leaseRetry = 2 * time.Second

// errLeaseLost cuts a change whose host lease another run took: it may not go on unguarded.
var errLeaseLost = errors.New("the host's lease was lost to another run")

// guarded returns ctx cancelled (cause errLeaseLost) if the run loses host's lease.
func (r *Run) guarded(ctx context.Context, host string) (context.Context, context.CancelFunc) {
	r.mu.Lock()
	l := r.leases[host]
	r.mu.Unlock()
	if l == nil {
		return ctx, func() {}
	}
	ctx, cancel := context.WithCancelCause(ctx)
	go func() {
		select {
		case <-l.Lost():
			cancel(errLeaseLost)
		case <-ctx.Done():
		}
	}()
	return ctx, func() { cancel(nil) }
}

// lease takes host's lease for the run, once; the run keeps it until releaseLeases.
func (r *Run) lease(ctx context.Context, g *safety.Guard, host string, renew time.Duration) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, held := r.leases[host]; held {
		return nil
	}
	l, err := g.AcquireHost(ctx, host, r.ID, renew)
	if err != nil {
		return err
	}
	if r.leases == nil {
		r.leases = map[string]*safety.Lease{}
	}
	r.leases[host] = l
	return nil
}

// releaseLeases gives back every host the run held, as soon as its steps are over.
// An adopted run also frees the leases a dead handler of the same run left behind, so that a
// run that ends never keeps a host from the next one for the rest of the lease TTL.
func (p *Pipeline) releaseLeases(ctx context.Context, run *Run) {
	run.mu.Lock()
	leases := run.leases
	run.leases = nil
	run.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), finishWrite)
	defer cancel()
	for _, l := range leases {
		if err := l.Release(ctx); err != nil {
			p.Logger.WarnContext(ctx, "host lease not released; its TTL will free it", "run", run.ID, "err", err)
		}
	}
	if p.Safety == nil || !run.Resumed || run.Plan == nil {
		return
	}
	for _, host := range run.Plan.Targets {
		if err := p.Safety.Guard.ReleaseHost(ctx, host, run.ID); err != nil {
			p.Logger.WarnContext(ctx, "host lease not released; its TTL will free it", "run", run.ID, "host", host, "err", err)
		}
	}
}

// fleetSwitches reads the fleet-wide switches on top of the configured ones. A read that
// fails is tried again for up to switchesWait: a NATS failover or freeze is over in seconds,
// and the switches are read before every step. Only then does it give up with the error, for
// the caller to stop truthfully: unreadable switches are not switches that are on.
func (p *Pipeline) fleetSwitches(ctx context.Context, s Switches) (Switches, error) {
	if p.Safety == nil {
		return s, nil
	}
	deadline := time.Now().Add(switchesWait)
	for {
		fs, err := p.Safety.Guard.Switches(ctx)
		if err == nil {
			return Switches{KillSwitch: s.KillSwitch || fs.Kill, DryRun: s.DryRun || fs.DryRun}, nil
		}
		if !time.Now().Before(deadline) || ctx.Err() != nil {
			p.Logger.WarnContext(ctx, "fleet switches unreadable; stopping to be safe", "err", err)
			return s, err
		}
		p.Logger.InfoContext(ctx, "fleet switches unreadable; reading them again", "err", err)
		select {
		case <-ctx.Done():
		case <-time.After(switchesRetry):
		}
	}
}

// switchesWait is how long a run waits for the fleet switches to be readable before it stops
// to be safe; switchesRetry is the pause between two reads.
const (
	switchesWait  = time.Minute
	switchesRetry = 500 * time.Millisecond
)
