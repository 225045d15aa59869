package approval

import (
	"encoding/json"
	"time"

	"github.com/alaya-sre/alaya/incident"
)

// State is where an approval request is in its life (the incident package's vocabulary).
// Only StatePending ever changes; the other states are final.
type State = incident.GateState

// Approval states.
const (
	StatePending   = incident.GatePending
	StateApproved  = incident.GateApproved
	StateRejected  = incident.GateRejected
	StateExpired   = incident.GateExpired
	StateCancelled = incident.GateCancelled
)

// DefaultExpiry is how long a gate waits for a decision when the runbook does not say.
const DefaultExpiry = 30 * time.Minute

// DefaultStartDeadline is how long an approved gate may wait for its run to start executing.
// An approval is for the situation the approver saw; a run that starts an hour later (a
// worker died, the queue was away) acts on a situation nobody approved.
const DefaultStartDeadline = 10 * time.Minute

// Approvers narrows who may decide a gate. Empty means the default policy: whoever is on call
// now, at level 1, for the escalation policy recorded at the gate.
type Approvers struct {
	// Users are PagerDuty user ids (or an email, standing for the one user that has it).
	Users []string `json:"users,omitempty"`
	// Teams are PagerDuty team ids (or a name, standing for the one team that bears it).
	Teams []string `json:"teams,omitempty"`
}

// Empty reports whether the default policy applies.
func (a Approvers) Empty() bool { return len(a.Users) == 0 && len(a.Teams) == 0 }

// Link is a titled URL shown with the plan (evidence, diagnostics).
type Link struct {
	Title string `json:"title"`
	URL   string `json:"url"`
}

// ResumePoint is where the pipeline picks the run up again after a decision. The approval
// package stores it and never reads it.
type ResumePoint struct {
	// Step is the index of the first step after the gate.
	Step int `json:"step"`
	// Data is anything else the pipeline needs to resume; opaque here.
	Data json.RawMessage `json:"data,omitempty"`
}

// Request is one pending (or decided) gate of a run, as stored under "<incident>.<code>".
type Request struct {
	Incident       string `json:"incident"`
	IncidentTitle  string `json:"incident_title,omitempty"`
	IncidentURL    string `json:"incident_url,omitempty"`
	Run            string `json:"run"`
	Runbook        string `json:"runbook"`
	RunbookVersion string `json:"runbook_version"`
	Gate           string `json:"gate"`
	// PlanHash identifies the exact plan shown; an approval is for this hash only.
	PlanHash string `json:"plan_hash"`
	// Code is what people type: NewCode's alphabet, unique among an incident's requests.
	Code string `json:"code"`

	Approvers        Approvers `json:"approvers,omitzero"`
	EscalationPolicy string    `json:"escalation_policy,omitempty"`
	// Assignees are the incident's assignees when the gate was reached (for display; the
	// policy uses the incident's assignees at decision time).
	Assignees []string `json:"assignees,omitempty"`
	// Targets are the hosts the plan touches (for display).
	Targets []string `json:"targets,omitempty"`

	Created time.Time `json:"created"`
	Expires time.Time `json:"expires"`

	State         State     `json:"state"`
	DecidedBy     string    `json:"decided_by,omitempty"`
	DecidedByName string    `json:"decided_by_name,omitempty"`
	DecidedAt     time.Time `json:"decided_at,omitzero"`
	Reason        string    `json:"reason,omitempty"`
	// StartBy is when an approved gate's run must have started executing; past it the
	// approval lapses (DefaultStartDeadline after the decision).
	StartBy time.Time `json:"start_by,omitzero"`
	// Settled is set once nothing is left to do for an approved gate: its run started, or
	// the approval lapsed. The sweeper looks only at approved gates not settled.
	Settled bool `json:"settled,omitempty"`
	// Closing is set when the gate ended without its run going on (rejected, expired,
	// cancelled, lapsed) and is cleared (Closed) once the run is closed and the incident told:
	// until then every gate sweep tries again, so a failed ledger write cannot leave the run
	// parked for good.
	Closing bool `json:"closing,omitempty"`
	// DecidedNote is the note (or page decision) that decided the gate. Spent lists the notes
	// whose approval was given back by Reopen: delivered again, they decide nothing.
	DecidedNote string   `json:"decided_note,omitempty"`
	Spent       []string `json:"spent,omitempty"`
	// Reopened is when the gate last went from approved back to pending (Reopen), Reopens
	// how many times.
	Reopened time.Time `json:"reopened,omitzero"`
	Reopens  int       `json:"reopens,omitempty"`

	Resume        ResumePoint `json:"resume"`
	PlanText      string      `json:"plan_text"`
	EvidenceLinks []Link      `json:"evidence_links,omitempty"`
}

// Expired reports whether the gate can no longer be approved at now.
func (r *Request) Expired(now time.Time) bool { return !now.Before(r.Expires) }

// Decision is a state change asked of Store.Decide.
type Decision struct {
	State State
	// By is the deciding user's id (PagerDuty user id), ByName a readable name or email.
	By, ByName string
	Reason     string
	// PlanHash must equal the stored hash for an approval; for other states it is checked
	// only when set.
	PlanHash string
	// At defaults to the store's clock.
	At time.Time
	// Note identifies the note or page decision this decision comes from: one whose approval
	// was given back (Reopen) is refused with ErrSpent.
	Note string
}
