package incident

// Sources: where an event came from. The approval flow trusts a note only as far as its source
// can be checked: a PagerDuty note is read back from PagerDuty's API, a decision from the
// approval page or a Slack button carries the receiver's signature.
const (
	SourcePagerDuty    = "pagerduty"
	SourceAlertmanager = "alertmanager"
	SourceApprovalPage = "approval-page"
	SourceSlack        = "slack"
)

// Verbs a person can decide a gate with, in a note ("/alaya approve CODE") or on the page.
const (
	VerbApprove = "approve"
	VerbReject  = "reject"
)

// Author types as PagerDuty spells them. Only a person may approve: notes added by an
// integration, a service or a bot are never a decision.
const (
	AuthorUser = "user_reference"
	// AuthorSlackUser is a Slack user id (U…), which the worker maps to a PagerDuty user by
	// email before it may decide anything.
	AuthorSlackUser = "slack_user"
)

// IsPerson reports whether a reference names a PagerDuty user (a person), as opposed to a
// service, an integration or a bot.
func (r Ref) IsPerson() bool { return r.Type == AuthorUser || r.Type == "user" }

// GateState is where an approval gate is in its life: pending until a person decides, then
// one of the final states. Only GatePending ever changes.
type GateState string

// Gate states.
const (
	GatePending   GateState = "pending"
	GateApproved  GateState = "approved"
	GateRejected  GateState = "rejected"
	GateExpired   GateState = "expired"
	GateCancelled GateState = "cancelled"
)

// Final reports whether s can no longer change.
func (s GateState) Final() bool { return s != GatePending }

// Run states: where a run is, as the run ledger records it, `alaya runs` shows it and the
// approval flow reads it (a parked run waits at its gate; a running one has an owner).
const (
	RunRunning  = "running"
	RunParked   = "parked"   // waiting at an approval gate
	RunDone     = "done"     // every step ran (some may have failed)
	RunFailed   = "failed"   // the run could not proceed
	RunUnknown  = "unknown"  // a worker died during a step that changes a system
	RunRejected = "rejected" // a gate was rejected, expired or cancelled
	// RunAbandoned: the run's handler is gone and its event will never come back (consumed
	// elsewhere, terminated, deleted, out of deliveries); a sweep ended it.
	RunAbandoned = "abandoned"
)
