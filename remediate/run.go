package remediate

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/alaya-sre/alaya/actions"
	"github.com/alaya-sre/alaya/approval"
	"github.com/alaya-sre/alaya/evidence"
	"github.com/alaya-sre/alaya/incident"
	"github.com/alaya-sre/alaya/ledger"
	"github.com/alaya-sre/alaya/runbooks"
	"github.com/alaya-sre/alaya/safety"
)

// Run is everything the pipeline knows about one runbook run on one incident. Stages read
// and fill it in order; nothing about a run is kept anywhere else in memory.
type Run struct {
	ID       string
	Event    *incident.Event
	Decision runbooks.Decision
	Runbook  *runbooks.Runbook
	Plan     *runbooks.Plan
	Ledger   *ledger.Handle
	Resumed  bool // the ledger already had this run (redelivery or takeover)
	// From is the first step to execute: 0 for a new run, the step after the gate for a run
	// resumed by an approval.
	From int
	// Storm is set when the run began during an incident storm: diagnostics only.
	Storm  bool
	leases map[string]*safety.Lease // hosts this run holds while changing them
	// reports are the evidence keys of the per-host reports, linked from the note.
	reports map[string]string
	// Approval is the decision that resumed the run (nil before any gate).
	Approval *approval.Request
	// last is set when the run is handled on its event's last delivery: a failure then ends
	// the run with its note (giveUp), for nothing will come back to it.
	last *lastTry

	mu          sync.Mutex
	Results     map[string]map[string]*HostResult // host → step name → result
	Manifest    *evidence.Manifest
	ManifestKey string
	Failure     string   // why the run could not execute, if it could not
	held        []string // hosts put on hold by this run after an unknown outcome
	// EvidenceMissing says why the run's manifest could not be stored, if it could not.
	EvidenceMissing string
	Started         time.Time
	Finished        time.Time
}

// HostResult is one step on one host.
type HostResult struct {
	Step     string
	Index    int
	Host     string
	ExitCode int
	Stdout   string // redacted, capped
	Stderr   string // redacted, capped
	Err      string // could not run: connect, host key, timeout...
	Skipped  string // why it did not run
	Started  time.Time
	Finished time.Time
	Objects  []evidence.Object
	// Outcome is set for action steps (restart, lb_detach, lb_attach, heap_dump).
	Outcome *actions.Outcome
	// Earlier marks a result carried over from before a gate (from the ledger, without
	// output): it informs later steps but is not reported again.
	Earlier bool
	// Recorded marks a result read from the ledger (a step an earlier handler of the run
	// finished): it is reported, but the step is not run again.
	Recorded bool
	// Unknown marks a step that changes a system whose end nobody saw (its handler died or
	// was cut off): it may or may not have taken effect.
	Unknown bool
	// Blocked marks a step skipped because a step it depends on, on the same host, failed, is
	// unknown or never ran: the host did not get what the plan said.
	Blocked bool
	// EvidenceErr says which of the step's evidence could not be stored. It never changes
	// the step's outcome: what happened on the host happened.
	EvidenceErr string
	// denied is set when the fleet's limits refused the change in a way that passes (see
	// denial): while nothing has changed since the gate, the gate is pending again.
	denied *denial
}

// OK reports whether the step ran and exited zero.
func (r *HostResult) OK() bool {
	return r.Err == "" && r.Skipped == "" && r.ExitCode == 0 && !r.Unknown
}

// approvedBy names who approved the run's changes, for the manifest.
func (r *Run) approvedBy() string {
	if r.Approval == nil {
		return ""
	}
	if r.Approval.DecidedByName != "" {
		return r.Approval.DecidedByName + " (" + r.Approval.DecidedBy + ")"
	}
	return r.Approval.DecidedBy
}

// outcomes lists the actions' outcomes in step order, for the still-detached check.
func (r *Run) outcomes() []actions.Outcome {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []actions.Outcome
	if r.Plan == nil {
		return nil
	}
	for _, step := range r.Plan.Steps {
		for _, host := range r.Plan.Targets {
			if res := r.Results[host][step.Name]; res != nil && res.Outcome != nil {
				out = append(out, *res.Outcome)
			}
		}
	}
	return out
}

func newRun(ev *incident.Event, d runbooks.Decision) *Run {
	return &Run{
		ID:       RunID(ev.Incident.ID, d.Runbook.Name, ev.ID),
		Event:    ev,
		Decision: d,
		Runbook:  d.Runbook,
		Results:  map[string]map[string]*HostResult{},
		Started:  time.Now(),
	}
}

// RunID derives a run's id from what makes it unique: the incident, the runbook and the
// triggering event. A redelivered or duplicated event yields the same id, so it finds the
// existing run instead of starting another. The runbook's version is deliberately not part of
// it: a redelivery after the runbook was edited is still the same run (the ledger records the
// version it ran with).
func RunID(incidentID, runbook, eventID string) string {
	h := sha256.New()
	for _, part := range []string{incidentID, runbook, eventID} {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	return "r" + hex.EncodeToString(h.Sum(nil))[:20]
}

func (r *Run) setResult(res *HostResult) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.Results[res.Host] == nil {
		r.Results[res.Host] = map[string]*HostResult{}
	}
	r.Results[res.Host][res.Step] = res
}

// stepResults is what `when` conditions see for one host.
func (r *Run) stepResults(host string) map[string]runbooks.StepResult {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string]runbooks.StepResult{}
	for name, res := range r.Results[host] {
		out[name] = runbooks.StepResult{
			OK: res.OK(), ExitCode: res.ExitCode, Stdout: res.Stdout, Stderr: res.Stderr, Skipped: res.Skipped != "",
		}
	}
	return out
}

func (r *Run) fail(reason string) { r.Failure = reason }

// warnings are the lines the note must carry beyond the per-host results: hosts held after an
// unknown outcome, and evidence that could not be stored.
func (r *Run) warnings() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	if len(r.held) > 0 {
		out = append(out, fmt.Sprintf("state unknown on %s: a change was under way when its worker stopped or was cut off. "+
			"Alaya will not change %s again until a person checks and runs `alaya holds clear %s`",
			strings.Join(r.held, ", "), pluralIt(len(r.held)), strings.Join(r.held, " ")))
	}
	missing := 0
	first := ""
	for _, steps := range r.Results {
		for _, res := range steps {
			if res.EvidenceErr != "" {
				missing++
				first = cmp.Or(first, res.EvidenceErr)
			}
		}
	}
	if r.EvidenceMissing != "" {
		out = append(out, "evidence missing: "+r.EvidenceMissing+"; the results above are what the worker saw")
	} else if missing > 0 {
		out = append(out, fmt.Sprintf("evidence missing for %d step(s): %s", missing, first))
	}
	return out
}

// unknown reports whether any step's outcome is unknown: the run's final state says so.
func (r *Run) unknown() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, steps := range r.Results {
		for _, res := range steps {
			if res.Unknown {
				return true
			}
		}
	}
	return false
}

func pluralIt(n int) string {
	if n == 1 {
		return "it"
	}
	return "them"
}

// outcome is a low-cardinality label for metrics.
func (r *Run) outcome() string {
	switch {
	case r.Failure != "":
		return "failed"
	case r.failedHosts() > 0:
		return "partial"
	}
	return "ok"
}

func (r *Run) failedHosts() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, steps := range r.Results {
		for _, res := range steps {
			if !res.OK() && (res.Skipped == "" || res.Blocked) {
				n++
				break
			}
		}
	}
	return n
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// tick calls fn every interval until ctx ends: the shape of the pipeline's background loops
// (gate expiry). A panic in fn is logged with its stack and the loop goes on: a sweeper must
// not take the worker down.
func (p *Pipeline) tick(ctx context.Context, every time.Duration, fn func()) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			p.safely(ctx, "sweep", fn)
		}
	}
}

// safely runs fn, turning a panic into an error log with the stack.
func (p *Pipeline) safely(ctx context.Context, what string, fn func()) (panicked bool) {
	defer func() {
		if v := recover(); v != nil {
			p.Logger.ErrorContext(ctx, "panic recovered", "in", what, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			panicked = true
		}
	}()
	fn()
	return false
}
