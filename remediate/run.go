package remediate

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
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

	mu          sync.Mutex
	Results     map[string]map[string]*HostResult // host → step name → result
	Manifest    *evidence.Manifest
	ManifestKey string
	Failure     string // why the run could not execute, if it could not
	Started     time.Time
	Finished    time.Time
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
}

// OK reports whether the step ran and exited zero.
func (r *HostResult) OK() bool { return r.Err == "" && r.Skipped == "" && r.ExitCode == 0 }

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
		ID:       RunID(ev.Incident.ID, d.Runbook.Name, d.Runbook.Version, ev.ID),
		Event:    ev,
		Decision: d,
		Runbook:  d.Runbook,
		Results:  map[string]map[string]*HostResult{},
		Started:  time.Now(),
	}
}

// RunID derives a run's id from what makes it unique: the incident, the runbook and its
// version, and the triggering event. A redelivered or duplicated event yields the same id, so
// it finds the existing run instead of starting another.
func RunID(incidentID, runbook, version, eventID string) string {
	h := sha256.New()
	for _, part := range []string{incidentID, runbook, version, eventID} {
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
			if !res.OK() && res.Skipped == "" {
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

// tick calls fn every interval until ctx ends: the shape of every background loop a worker
// runs (heartbeats, the note outbox, gate expiry).
func tick(ctx context.Context, every time.Duration, fn func()) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			fn()
		}
	}
}
