package runbooks

import (
	"fmt"
	"time"

	"github.com/alaya-sre/alaya/incident"
	"github.com/alaya-sre/alaya/inventory"
	"github.com/expr-lang/expr/vm"
)

// Plan is everything one run of a runbook would do for one incident, fully rendered: the
// worker executes it, the note shows it, and an approval binds to its Hash.
type Plan struct {
	Runbook  string    `json:"runbook"`
	Version  string    `json:"version"`
	Incident string    `json:"incident"`
	Why      string    `json:"why"`
	Targets  []string  `json:"targets"`
	Refused  []Refusal `json:"refused,omitempty"`
	Steps    []Step    `json:"steps"`
}

// Refusal is a host the runbook named but will not touch, and why.
type Refusal struct {
	Target string `json:"target"`
	Reason string `json:"reason"`
}

// Step is one rendered step. Gates appear as steps of kind "gate".
type Step struct {
	Name            string        `json:"name"`
	Kind            string        `json:"kind"`
	Mutating        bool          `json:"mutating,omitempty"`
	Timeout         time.Duration `json:"timeout,omitempty"`
	ContinueOnError bool          `json:"continue_on_error,omitempty"`
	When            string        `json:"when,omitempty"` // the condition's source, for people
	// Commands maps host to the rendered shell command (run steps).
	Commands map[string]string `json:"commands,omitempty"`
	// Paths maps host to the files to collect (collect steps).
	Paths map[string][]string `json:"paths,omitempty"`
	// Action maps host to the rendered action parameters. Values are plain data, not shell:
	// the action that uses one in a command must quote it (Quote). The exceptions are
	// restart's "health_check", "command" and "verify_command", shell commands rendered like
	// a run step.
	Action map[string]map[string]string `json:"action,omitempty"`
	Gate   *Gate                        `json:"gate,omitempty"`
	Report Report                       `json:"report"`

	when *compiled
}

// Gate stops a run until a person approves the steps after it.
type Gate struct {
	Name      string        `json:"name"`
	Expires   time.Duration `json:"expires"`
	Approvers Approvers     `json:"approvers"`
	Message   string        `json:"message,omitempty"`
}

// Approvers may approve a gate. Empty means the default policy: whoever is on call for the
// incident's escalation policy, or an assignee of the incident.
type Approvers struct {
	Users []string `json:"users,omitempty"`
	Teams []string `json:"teams,omitempty"`
}

// Report says what of a step's output goes into the note.
type Report struct {
	Lines int    `json:"lines"`           // how many telling lines per host
	Match string `json:"match,omitempty"` // regexp; matching lines are the telling ones
	Label string `json:"label,omitempty"` // shown instead of the step name
}

// compiled is a step's `when`, bound to the incident it was planned for.
type compiled struct {
	prog *vm.Program
	env  Env
}

// Plan resolves the targets and renders every step for ev. It touches nothing: the inventory
// is only read. An error means the plan cannot be made safely (for example a NUL byte in an
// interpolated value) and nothing of this runbook may run.
func (rb *Runbook) Plan(ev *incident.Event, inv *inventory.Inventory) (*Plan, error) {
	env := NewEnv(ev)
	state := newEvalState(rb.paths)
	state.reset(env)
	machine := state.machine
	p := &Plan{
		Runbook: rb.Name, Version: rb.Version, Incident: ev.Incident.ID,
		Why: rb.rule.explain(state), Targets: []string{}, Steps: []Step{},
	}
	hosts, refused, err := rb.resolveTargets(machine, env, inv)
	if err != nil {
		return nil, fmt.Errorf("runbook %s: targets: %w", rb.Name, err)
	}
	p.Refused = refused
	for _, h := range hosts {
		p.Targets = append(p.Targets, h.Name)
	}
	for _, def := range rb.steps {
		st, err := def.render(machine, env, hosts)
		if err != nil {
			return nil, fmt.Errorf("runbook %s: step %s: %w", rb.Name, def.name, err)
		}
		p.Steps = append(p.Steps, st)
	}
	return p, nil
}

// Gates lists the plan's gates in order.
func (p *Plan) Gates() []*Gate {
	var out []*Gate
	for i := range p.Steps {
		if p.Steps[i].Gate != nil {
			out = append(out, p.Steps[i].Gate)
		}
	}
	return out
}
