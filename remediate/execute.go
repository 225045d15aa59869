package remediate

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/alaya-sre/alaya/actions"
	"github.com/alaya-sre/alaya/executor"
	"github.com/alaya-sre/alaya/inventory"
	"github.com/alaya-sre/alaya/ledger"
	"github.com/alaya-sre/alaya/queue"
	"github.com/alaya-sre/alaya/runbooks"
)

// execute runs the plan's steps in order, each across all targets at once (bounded by the
// runbook's concurrency). Every step on every host is written to the ledger before and after
// it runs. What the ledger already holds (a run adopted from another handler) is seeded
// first and not run again: each host resumes from its own earliest unfinished step.
func (p *Pipeline) execute(ctx context.Context, run *Run) error {
	if run.Failure != "" {
		return nil // nothing to execute: the run is recorded and reported as it is
	}
	hbCtx, stopHeartbeat := context.WithCancel(ctx)
	defer stopHeartbeat()
	go run.Ledger.Heartbeat(hbCtx, p.Options.Heartbeat, stopHeartbeat)
	defer p.releaseLeases(ctx, run)
	p.seed(ctx, run)

	for i := run.From; i < len(run.Plan.Steps); i++ {
		step := &run.Plan.Steps[i]
		if err := ctx.Err(); err != nil {
			return p.cut(ctx, run)
		}
		if step.Mutating && p.stopping() {
			return queue.Retry(errStopping)
		}
		if sw, err := p.switches(ctx); err != nil {
			run.fail(fmt.Sprintf("the fleet switches could not be read (%v): stopped before step %s to be safe; nothing further was executed",
				err, step.Name))
			break
		} else if sw.KillSwitch {
			run.fail(fmt.Sprintf("kill switch is on: stopped before step %s; nothing further was executed", step.Name))
			break
		}
		if step.Kind == runbooks.KindGate && run.Storm {
			run.fail(fmt.Sprintf("storm mode: more than %d incidents in %s, so Alaya ran diagnostics only and proposes nothing",
				p.Safety.Limits.StormIncidents, p.Safety.Limits.StormWindow))
			break
		}
		if step.Kind == runbooks.KindGate {
			if why := noHostLeft(run, i); why != "" {
				run.fail(fmt.Sprintf("not asking for approval at gate %s: no host can go on (%s); nothing after the gate was executed",
					step.Name, why))
				break
			}
			if err := p.park(ctx, run, i, step); err != nil {
				return err
			}
			break
		}
		if !p.runStep(ctx, run, i, step) {
			return queue.Retry(errStopping) // a host's change was not started: left for the next handler
		}
		p.stepReply(ctx, run, i, step)
		if err := p.afterDenials(ctx, run); err != nil {
			return err
		}
	}
	if ctx.Err() != nil {
		return p.cut(ctx, run)
	}
	run.Finished = time.Now()
	return nil
}

// errStopping leaves a run for the next handler: this worker is stopping and starts no new
// step that changes a system. The run's record is let go, so the next delivery adopts it at once.
var errStopping = errors.New("worker stopping: the run's remaining steps are left to the next worker")

// cut handles a run whose handler context ended during its steps. At the handler's deadline
// the run is finished here and reported; when the worker is stopping (its grace ran out) it
// is left to the worker that adopts it, which reports what the cut-off steps became.
func (p *Pipeline) cut(ctx context.Context, run *Run) error {
	if !errors.Is(context.Cause(ctx), errHandlerDeadline) {
		return queue.Retry(fmt.Errorf("run cut off: %w", context.Cause(ctx)))
	}
	run.fail(fmt.Sprintf("stopped: the handler deadline (%s) was reached; steps not finished by then were not run, "+
		"and a change that was under way is unknown", p.Options.HandlerTimeout))
	run.Finished = time.Now()
	return nil
}

// Switches are the safety switches. They are read before every step, so a change takes
// effect between steps.
type Switches struct {
	KillSwitch bool // stop every run before its next step
	DryRun     bool // report steps that change a system as not executed
}

func (p *Pipeline) switches(ctx context.Context) (Switches, error) {
	return p.fleetSwitches(ctx, p.Options.Switches)
}

// runStep runs one step on every target that still needs it; false if a host's change was
// not started because the worker is stopping.
func (p *Pipeline) runStep(ctx context.Context, run *Run, index int, step *runbooks.Step) bool {
	limit := run.Runbook.Limits.Concurrency
	if limit < 1 {
		limit = len(run.Plan.Targets)
	}
	sem := make(chan struct{}, limit)
	var wg sync.WaitGroup
	var left atomic.Bool
	for _, host := range run.Plan.Targets {
		if run.result(host, step.Name) != nil {
			continue // recorded by an earlier handler of this run
		}
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			res := p.safeRunOnHost(ctx, run, index, step, host)
			if res == nil {
				left.Store(true)
				return
			}
			run.setResult(res)
		})
	}
	wg.Wait()
	return !left.Load()
}

// safeRunOnHost is runOnHost with a panic turned into the step's failure (unknown for a change
// that had started), the stack logged: one host's bug must not take the worker down.
func (p *Pipeline) safeRunOnHost(ctx context.Context, run *Run, index int, step *runbooks.Step, host string) (res *HostResult) {
	defer func() {
		v := recover()
		if v == nil {
			return
		}
		p.Logger.ErrorContext(ctx, "step panicked", "run", run.ID, "step", step.Name, "host", host,
			"panic", fmt.Sprint(v), "stack", string(debug.Stack()))
		res = &HostResult{Step: step.Name, Index: index, Host: host, ExitCode: -1, Started: time.Now(), Finished: time.Now(),
			Err: fmt.Sprintf("internal error: %v", v)}
		key := ledger.StepKey(index, host)
		if st, ok := run.Ledger.Record().Steps[key]; ok && st.Status == ledger.StepStarted && step.Mutating {
			res.Unknown = true
		}
		p.finishStep(ctx, run, step, key, res)
	}()
	return p.runOnHost(ctx, run, index, step, host)
}

// runOnHost runs one step on one host and returns what happened; it never returns an error,
// because one host's failure is a result to report, not a reason to stop the others.
func (p *Pipeline) runOnHost(ctx context.Context, run *Run, index int, step *runbooks.Step, hostName string) *HostResult {
	res := &HostResult{Step: step.Name, Index: index, Host: hostName, Started: time.Now()}
	defer func() {
		res.Finished = time.Now()
		p.Metrics.steps.WithLabelValues(step.Kind, res.outcome()).Inc()
		p.Metrics.stepDur.WithLabelValues(step.Kind).Observe(res.Finished.Sub(res.Started).Seconds())
	}()
	if reason, blocked := p.skipReason(ctx, run, index, step, hostName); reason != "" {
		res.Skipped, res.Blocked = reason, blocked
		p.finishStep(ctx, run, step, ledger.StepKey(index, hostName), res)
		return res
	}
	host, err := p.Inventory.Lookup(hostName)
	if err != nil {
		res.Err = err.Error()
		return res
	}
	key := ledger.StepKey(index, hostName)
	if prev, ok := run.Ledger.Record().Steps[key]; ok && step.Mutating {
		// At most once: a step that changes a system and has any record already ran (or may
		// have); it is never started again.
		res.Skipped = fmt.Sprintf("already %s earlier; a step that changes a system is not run again", prev.Status)
		return res
	}
	if step.Mutating && p.stopping() {
		return nil // not started: the worker is stopping; the next handler runs it
	}
	if step.Mutating {
		// A refusal by the fleet's limits counts as a failure, so the host's later steps
		// (restart after a refused detach) do not run either; unless it gives the approval
		// back (afterDenials), when nothing has changed yet.
		if d := p.guard(ctx, run, hostName); d != nil {
			res.Err, res.ExitCode = d.why, -1
			if d.later {
				res.denied = d
			}
			return res
		}
		var stop context.CancelFunc
		ctx, stop = run.guarded(ctx, hostName)
		defer stop()
	}
	if ctx.Err() != nil {
		return nil // cut off before it started: nothing happened on the host
	}
	p.perform(ctx, run, step, host, key, res)
	return res
}

// perform records the step as started, runs it and records how it ended. A change cut off
// while it ran may have taken effect: it is unknown, never "failed".
func (p *Pipeline) perform(ctx context.Context, run *Run, step *runbooks.Step, host *inventory.Host, key string, res *HostResult) {
	if err := run.Ledger.Update(ctx, func(r *ledger.Record) {
		r.Steps[key] = ledger.Step{Status: ledger.StepStarted, Mutating: step.Mutating, Started: res.Started}
	}); err != nil {
		res.Err = "ledger: " + err.Error()
		return
	}
	switch step.Kind {
	case "run":
		p.runCommand(ctx, run, step, host, res)
	case "collect":
		p.collect(ctx, run, step, host, res)
	case actions.KindRestart, actions.KindLBDetach, actions.KindLBAttach, actions.KindHeapDump:
		p.act(ctx, run, step, host, res)
	default:
		res.Err = fmt.Sprintf("step kind %q is not supported by this worker", step.Kind)
	}
	if step.Mutating && ctx.Err() != nil {
		res.Unknown = true
		res.Err = fmt.Sprintf("outcome unknown: cut off (%v) while it was changing the system; check the host", context.Cause(ctx))
		if res.Outcome != nil {
			res.Outcome.OK, res.Outcome.Summary = false, res.Err
		}
	}
	p.finishStep(ctx, run, step, key, res)
}

// finishStep writes the step's end to the ledger. The write outlives a cancelled ctx: the
// record must say how the step ended, most of all when it was cut off.
func (p *Pipeline) finishStep(ctx context.Context, run *Run, step *runbooks.Step, key string, res *HostResult) {
	status := ledger.StepDone
	switch {
	case res.Skipped != "":
		status = ledger.StepSkipped
	case res.Unknown:
		status = ledger.StepUnknown
	case !res.OK():
		status = ledger.StepFailed
	}
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), finishWrite)
	defer cancel()
	err := run.Ledger.Update(wctx, func(r *ledger.Record) {
		r.Steps[key] = ledger.Step{Status: status, Mutating: step.Mutating, ExitCode: res.ExitCode,
			Started: res.Started, Finished: time.Now(), Error: cmp.Or(res.Err, res.Skipped), Blocked: res.Blocked}
	})
	if err != nil {
		p.Logger.WarnContext(ctx, "step end not recorded", "run", run.ID, "step", key, "status", status, "err", err)
	}
	if status == ledger.StepUnknown {
		p.hold(ctx, run, res.Host, key)
	}
}

// finishWrite bounds the ledger write that records a step's end.
const finishWrite = 45 * time.Second

// skipReason says why a step must not run on a host, and whether that is because a step it
// depends on did not succeed there (blocked): an earlier step failed (and did not allow
// continuing), is unknown, or never ran; else its `when` condition is false, or the dry-run
// switch is on.
func (p *Pipeline) skipReason(ctx context.Context, run *Run, index int, step *runbooks.Step, host string) (reason string, blocked bool) {
	if why := blockedBy(run, index, host); why != "" {
		return why, true
	}
	ok, err := step.ShouldRun(run.stepResults(host))
	if err != nil {
		return "when condition failed: " + err.Error(), false
	}
	if !ok {
		return "when condition is false", false
	}
	if !step.Mutating {
		return "", false
	}
	switch sw, err := p.switches(ctx); {
	case err != nil:
		// Not a dry run: the change did not happen, and the host is not reported ok.
		return "not executed: the fleet switches could not be read", true
	case sw.DryRun:
		return "dry run, not executed", false
	}
	return "", false
}

// noHostLeft says why no target may go past the gate at index (each one is blocked by an
// earlier step), or "" when at least one may: a person is never asked to approve a plan that
// would run nothing.
func noHostLeft(run *Run, index int) string {
	var why string
	for _, host := range run.Plan.Targets {
		b := blockedBy(run, index, host)
		if b == "" {
			return ""
		}
		why = cmp.Or(why, host+": "+b)
	}
	if len(run.Plan.Targets) > 1 {
		why += fmt.Sprintf("; the other %d hosts are blocked likewise", len(run.Plan.Targets)-1)
	}
	return why
}

// blockedBy names the earlier step on host that the step at index depends on and that did not
// succeed, or "".
func blockedBy(run *Run, index int, host string) string {
	for j := range index {
		prev := &run.Plan.Steps[j]
		if prev.Kind == runbooks.KindGate {
			continue
		}
		r := run.result(host, prev.Name)
		switch {
		case r == nil:
			return fmt.Sprintf("earlier step %s never ran on this host", prev.Name)
		case r.Unknown:
			return fmt.Sprintf("earlier step %s has an unknown outcome", prev.Name)
		case r.Blocked && !prev.ContinueOnError:
			return r.Skipped
		case !r.OK() && r.Skipped == "" && !prev.ContinueOnError:
			return fmt.Sprintf("earlier step %s failed", prev.Name)
		}
	}
	return ""
}

func (p *Pipeline) runCommand(ctx context.Context, run *Run, step *runbooks.Step, host *inventory.Host, res *HostResult) {
	cmd := step.Commands[host.Name]
	out, err := p.Runner.Run(ctx, host, cmd, executor.RunOptions{Timeout: step.Timeout})
	if out != nil {
		res.ExitCode = out.ExitCode
		res.Stdout = p.Redactor.String(string(out.Stdout))
		res.Stderr = p.Redactor.String(string(out.Stderr))
	}
	if err != nil {
		res.Err = p.Redactor.String(err.Error())
		if out == nil {
			res.ExitCode = -1
		}
	}
	p.storeOutputs(ctx, run, step, res, out)
}

func (r *Run) result(host, step string) *HostResult {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.Results[host][step]
}

func (r *HostResult) outcome() string {
	switch {
	case r.Skipped != "":
		return "skipped"
	case r.Err != "":
		return "error"
	case r.ExitCode != 0:
		return "nonzero"
	}
	return "ok"
}
