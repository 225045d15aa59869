package remediate

import (
	"cmp"
	"context"

	"github.com/alaya-sre/alaya/ledger"
)

// seed restores what the ledger holds of the run's steps (an earlier handler's work) as
// results, so that they are not run again, inform the steps that depend on them and are
// reported; their output is read back from the evidence.
func (p *Pipeline) seed(ctx context.Context, run *Run) {
	rec := run.Ledger.Record()
	for i, step := range run.Plan.Steps {
		for _, host := range run.Plan.Targets {
			st, ok := rec.Steps[ledger.StepKey(i, host)]
			if !ok || !st.Ended() || run.result(host, step.Name) != nil {
				continue
			}
			res := recorded(st, step.Name, i, host, i < run.From)
			run.setResult(res)
			if res.Unknown {
				p.hold(ctx, run, host, ledger.StepKey(i, host)) // kept once; the note says so
			}
		}
	}
	p.restoreEarlierOutput(ctx, run)
}

// recorded is a step's result as the ledger has it: status, exit code and error, no output.
func recorded(st ledger.Step, step string, index int, host string, earlier bool) *HostResult {
	res := &HostResult{Step: step, Index: index, Host: host, ExitCode: st.ExitCode, Err: st.Error,
		Started: st.Started, Finished: st.Finished, Earlier: earlier, Recorded: !earlier}
	switch st.Status {
	case ledger.StepSkipped:
		res.Skipped, res.Err, res.Blocked = cmp.Or(st.Error, "skipped"), "", st.Blocked
	case ledger.StepUnknown:
		res.Unknown = true
		res.Err = cmp.Or(st.Error, "outcome unknown")
	case ledger.StepFailed:
		if res.Err == "" && res.ExitCode == 0 {
			res.Err = "failed"
		}
	}
	return res
}
