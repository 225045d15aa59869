package remediate

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/alaya-sre/alaya/actions"
	"github.com/alaya-sre/alaya/executor"
	"github.com/alaya-sre/alaya/inventory"
	"github.com/alaya-sre/alaya/ledger"
	"github.com/alaya-sre/alaya/runbooks"
)

// execute runs the plan's steps in order, each across all targets at once (bounded by the
// runbook's concurrency). Every step on every host is written to the ledger before and after
// it runs.
func (p *Pipeline) execute(ctx context.Context, run *Run) error {
	hbCtx, stopHeartbeat := context.WithCancel(ctx)
	defer stopHeartbeat()
	go run.Ledger.Heartbeat(hbCtx, p.Options.Heartbeat)
	defer run.releaseLeases(ctx)

	for i := run.From; i < len(run.Plan.Steps); i++ {
		step := &run.Plan.Steps[i]
		if err := ctx.Err(); err != nil {
			return classify(err)
		}
		if p.switches(ctx).KillSwitch {
			run.fail(fmt.Sprintf("kill switch is on: stopped before step %s; nothing further was executed", step.Name))
			break
		}
		if step.Kind == runbooks.KindGate && run.Storm {
			run.fail(fmt.Sprintf("storm mode: more than %d incidents in %s, so Alaya ran diagnostics only and proposes nothing",
				p.Safety.Limits.StormIncidents, p.Safety.Limits.StormWindow))
			break
		}
		if step.Kind == runbooks.KindGate {
			if err := p.park(ctx, run, i, step); err != nil {
				return err
			}
			break
		}
		p.runStep(ctx, run, i, step)
	}
	run.Finished = time.Now()
	return nil
}

// Switches are the safety switches. They are read before every step, so a change takes
// effect between steps.
type Switches struct {
	KillSwitch bool // stop every run before its next step
	DryRun     bool // report steps that change a system as not executed
}

func (p *Pipeline) switches(ctx context.Context) Switches {
	return p.fleetSwitches(ctx, p.Options.Switches)
}

func (p *Pipeline) runStep(ctx context.Context, run *Run, index int, step *runbooks.Step) {
	limit := run.Runbook.Limits.Concurrency
	if limit < 1 {
		limit = len(run.Plan.Targets)
	}
	sem := make(chan struct{}, limit)
	var wg sync.WaitGroup
	for _, host := range run.Plan.Targets {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			run.setResult(p.runOnHost(ctx, run, index, step, host))
		})
	}
	wg.Wait()
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
	if reason := p.skipReason(ctx, run, index, step, hostName); reason != "" {
		res.Skipped = reason
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
	if step.Mutating {
		// A refusal by the fleet's limits counts as a failure, so the host's later steps
		// (restart after a refused detach) do not run either.
		if reason := p.guardAction(ctx, run, hostName); reason != "" {
			res.Err, res.ExitCode = reason, -1
			return res
		}
	}
	if err := run.Ledger.Update(ctx, func(r *ledger.Record) {
		r.Steps[key] = ledger.Step{Status: ledger.StepStarted, Mutating: step.Mutating, Started: res.Started}
	}); err != nil {
		res.Err = "ledger: " + err.Error()
		return res
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
	status := ledger.StepDone
	if !res.OK() {
		status = ledger.StepFailed
	}
	_ = run.Ledger.Update(context.WithoutCancel(ctx), func(r *ledger.Record) {
		r.Steps[key] = ledger.Step{Status: status, Mutating: step.Mutating, ExitCode: res.ExitCode,
			Started: res.Started, Finished: time.Now(), Error: res.Err}
	})
	return res
}

// skipReason says why a step must not run on a host: an earlier step failed there (and did not
// allow continuing), its `when` condition is false, or the dry-run switch is on.
func (p *Pipeline) skipReason(ctx context.Context, run *Run, index int, step *runbooks.Step, host string) string {
	for j := range index {
		prev := &run.Plan.Steps[j]
		r := run.result(host, prev.Name)
		if r != nil && !r.OK() && r.Skipped == "" && !prev.ContinueOnError {
			return fmt.Sprintf("earlier step %s failed", prev.Name)
		}
	}
	ok, err := step.ShouldRun(run.stepResults(host))
	if err != nil {
		return "when condition failed: " + err.Error()
	}
	if !ok {
		return "when condition is false"
	}
	if step.Mutating && p.switches(ctx).DryRun {
		return "dry run, not executed"
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
