package remediate

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/alaya-sre/alaya/actions"
	"github.com/alaya-sre/alaya/actions/balancers"
	"github.com/alaya-sre/alaya/evidence"
	"github.com/alaya-sre/alaya/inventory"
	"github.com/alaya-sre/alaya/runbooks"
)

// act runs one action step (restart, lb_detach, lb_attach, heap_dump) on one host through the
// actions package. The outcome is the note's line for the host and the manifest's record of
// what changed; its detail and commands are stored as action.json beside it.
func (p *Pipeline) act(ctx context.Context, run *Run, step *runbooks.Step, host *inventory.Host, res *HostResult) {
	if step.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, step.Timeout)
		defer cancel()
	}
	o, err := p.runAction(ctx, run, step, host, res)
	o.Step, o.Host = step.Name, host.Name
	o.Summary = p.Redactor.String(o.Summary)
	o.Detail = p.Redactor.String(o.Detail)
	res.Outcome = &o
	if err != nil || !o.OK {
		res.ExitCode = 1
		res.Err = o.Summary
	}
	for _, obj := range o.Objects {
		res.Objects = append(res.Objects, evidence.Object{Key: obj.Key, Size: obj.Size, SHA256: obj.SHA256})
	}
	data, _ := json.MarshalIndent(actionFile{Outcome: o, ApprovedBy: run.approvedBy()}, "", "  ")
	// The record of a change is stored even when the change was cut off: that is when it
	// matters most.
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), actionRecordTimeout)
	defer cancel()
	p.put(pctx, run, res, "action.json", "application/json", data)
}

// actionRecordTimeout bounds storing action.json after the step's own context ended.
const actionRecordTimeout = 30 * time.Second

// actionFile is action.json: the outcome and on whose approval it was done.
type actionFile struct {
	actions.Outcome
	ApprovedBy string `json:"approved_by,omitempty"`
}

func (p *Pipeline) runAction(ctx context.Context, run *Run, step *runbooks.Step, host *inventory.Host, res *HostResult) (actions.Outcome, error) {
	params := step.Action[host.Name]
	switch step.Kind {
	case actions.KindRestart:
		rp, err := actions.ParseRestartParams(params)
		if err != nil {
			return notStarted(step.Kind, host.Name, err), err
		}
		return actions.Restart(ctx, p.Runner, host, rp)
	case actions.KindHeapDump:
		hp, err := actions.ParseHeapDumpParams(params)
		if err != nil {
			return notStarted(step.Kind, host.Name, err), err
		}
		hp.Run = run.ID
		return actions.HeapDump(ctx, p.Runner, p.Store, host, p.key(run, stepDir(res), host.Name, "heap.hprof"), hp)
	case actions.KindLBDetach:
		return balancers.Detach(ctx, p.Balancers, host.Name, params)
	case actions.KindLBAttach:
		return balancers.Attach(ctx, p.Balancers, host.Name, params)
	}
	err := fmt.Errorf("step kind %q is not an action", step.Kind)
	return notStarted(step.Kind, host.Name, err), err
}

func notStarted(kind, host string, err error) actions.Outcome {
	return actions.Outcome{Kind: kind, Host: host, Summary: fmt.Sprintf("%s on %s not started: %v", kind, host, err), Detail: err.Error()}
}

// actionRecords are the manifest's account of every action: what, where, when, on whose
// approval, how it ended (ok, failed, or unknown when it was cut off).
func (r *Run) actionRecords() []evidence.ActionRecord {
	var out []evidence.ActionRecord
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.Plan == nil {
		return nil
	}
	for _, step := range r.Plan.Steps {
		for _, host := range r.Plan.Targets {
			res := r.Results[host][step.Name]
			if res == nil || res.Outcome == nil {
				continue
			}
			o := res.Outcome
			outcome := "ok"
			switch {
			case res.Unknown:
				outcome = "unknown"
			case !o.OK:
				outcome = "failed"
			}
			out = append(out, evidence.ActionRecord{
				Step: o.Step, Kind: o.Kind, Host: o.Host, Started: o.Started, Finished: o.Finished,
				ApprovedBy: r.approvedBy(), Outcome: outcome, Detail: o.Summary,
			})
		}
	}
	return out
}
