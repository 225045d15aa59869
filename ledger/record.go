// Package ledger is the run ledger: one record per runbook run in a JetStream KeyValue bucket,
// written before and after every step, so that a redelivered event finds its run, a crash
// during a step is noticed, and a step that changes a system runs at most once.
//
// Ownership of a run is taken with Create and every later write is compare-and-swap on the
// revision, so two handlers can never both believe they own a run.
package ledger

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/alaya-sre/alaya/evidence"
	"github.com/alaya-sre/alaya/incident"
)

// Run states recorded in the ledger: the domain's words (incident.Run*), named for the ledger.
const (
	StateRunning   = incident.RunRunning
	StateParked    = incident.RunParked
	StateDone      = incident.RunDone
	StateFailed    = incident.RunFailed
	StateUnknown   = incident.RunUnknown
	StateRejected  = incident.RunRejected
	StateAbandoned = incident.RunAbandoned
)

// Step states.
const (
	StepStarted = "started"
	StepDone    = "done"
	StepFailed  = "failed"
	StepSkipped = "skipped"
	StepUnknown = "unknown" // a step that changes a system started, and nobody saw it end
)

// Record is what the ledger keeps about one run. It is written before and after every step
// so that a redelivered event finds the run, and a crash during a step is noticed.
type Record struct {
	ID       string `json:"id"`
	Incident string `json:"incident"`
	Runbook  string `json:"runbook"`
	Version  string `json:"version"`
	Event    string `json:"event"`
	State    string `json:"state"`
	Reason   string `json:"reason,omitempty"`
	// Owner is the run handler that holds the run (worker/nonce), "" when its last handler let
	// go of it (a redelivery may adopt it at once). Write names the write that produced this
	// version, so that a write whose outcome was unknown is recognised when read back.
	Owner string `json:"owner"`
	Write string `json:"write,omitempty"`
	// Heartbeat is the writer's clock, for people only: liveness is judged by the KV entry's
	// server timestamp, so that workers' clocks never need to agree.
	Heartbeat time.Time       `json:"heartbeat"`
	Created   time.Time       `json:"created"`
	Steps     map[string]Step `json:"steps"` // "<step index>/<host>"
	NextStep  int             `json:"next_step"`
	Noted     bool            `json:"noted"`
	// Trigger is the triggering event with its enriched alerts, kept from the moment a run
	// parks so that any worker can rebuild the plan when the decision arrives.
	Trigger *incident.Event `json:"trigger,omitempty"`
	// Gate is the gate the run waits at (or last waited at).
	Gate *Gate `json:"gate,omitempty"`
	// Announced is the code of the gate whose "approved, executing" note was posted, so that a
	// run adopted after the announcement does not announce itself again.
	Announced string `json:"announced,omitempty"`
	// Approvals are the decisions taken on the run's gates, for the manifest.
	Approvals []evidence.Approval `json:"approvals,omitempty"`
}

// Gate is the gate a parked run waits at: written before the approval request is
// created, so a redelivered event re-uses the same code instead of posting a second one.
type Gate struct {
	Step     int       `json:"step"`
	Name     string    `json:"name"`
	Code     string    `json:"code"`
	PlanHash string    `json:"plan_hash"`
	Expires  time.Time `json:"expires"`
}

// Step is one step on one host.
type Step struct {
	Status   string    `json:"status"`
	Mutating bool      `json:"mutating,omitempty"`
	ExitCode int       `json:"exit_code"`
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished,omitzero"`
	Error    string    `json:"error,omitempty"`
	// Blocked marks a step skipped because a step it depends on did not succeed.
	Blocked bool `json:"blocked,omitempty"`
}

// Ended reports whether the step has a final status: it is not run again.
func (s Step) Ended() bool { return s.Status != "" && s.Status != StepStarted }

// StepKey is the key of one step on one host in Record.Steps: "<step index>/<host>".
func StepKey(index int, host string) string { return fmt.Sprintf("%d/%s", index, host) }

// ParseStepKey splits a StepKey; ok is false for anything else.
func ParseStepKey(key string) (index int, host string, ok bool) {
	i, host, found := strings.Cut(key, "/")
	n, err := strconv.Atoi(i)
	if !found || err != nil || n < 0 || host == "" {
		return 0, "", false
	}
	return n, host, true
}
