package runbooks

import (
	"time"

	"github.com/alaya-sre/alaya/internal/yamlfile"
	"github.com/expr-lang/expr/vm"
)

// Step kinds.
const (
	KindRun      = "run"
	KindCollect  = "collect"
	KindGate     = "gate"
	KindRestart  = "restart"
	KindLBDetach = "lb_detach"
	KindLBAttach = "lb_attach"
	KindHeapDump = "heap_dump"
)

// Defaults a runbook gets when it does not say otherwise.
const (
	DefaultOrder       = 100
	DefaultMaxTargets  = 5
	DefaultStepTimeout = 30 * time.Second
	DefaultGateExpiry  = 30 * time.Minute
	DefaultReportLines = 5
)

// Runbook is one loaded, checked runbook file.
type Runbook struct {
	Name        string
	Description string
	Owner       string
	// Version is the first 12 hex digits of the SHA-256 of the file, so a plan, a run id and
	// an approval name exactly the text that ran.
	Version string
	File    string
	Order   int  // evaluation order, lower first; ties broken by file name
	Stop    bool // a match stops the evaluation of later runbooks
	Match   string
	Params  map[string]any
	Targets Targets
	Limits  Limits
	Note    Note
	Slack   Slack
	Pos     yamlfile.Pos // where the runbook starts, for messages

	rule    *rule
	paths   *pathTable // shared with the runbooks loaded together
	targets *vm.Program
	steps   []*stepDef
}

// Targets is how a runbook names its hosts: an expression, inventory labels, or both (then
// the named hosts must also carry the labels).
type Targets struct {
	Expr   string
	Labels map[string]string
}

// Limits bound what one run may do.
type Limits struct {
	MaxTargets  int
	Concurrency int // hosts at once
	Cooldown    time.Duration
}

// Note holds the runbook's settings for the incident note.
type Note struct {
	Title string
	Lines int
}

// Mutating reports whether any step changes a system, which makes the runbook need approval.
func (rb *Runbook) Mutating() bool {
	for _, s := range rb.steps {
		if s.mutating {
			return true
		}
	}
	return false
}

// StepNames lists the steps in order, for tools that show a runbook's shape.
func (rb *Runbook) StepNames() []string {
	out := make([]string, len(rb.steps))
	for i, s := range rb.steps {
		out[i] = s.name
	}
	return out
}

// mutatingKinds are the step kinds that change a system and so must follow a gate.
var mutatingKinds = map[string]bool{KindRestart: true, KindLBDetach: true, KindLBAttach: true, KindHeapDump: true}
