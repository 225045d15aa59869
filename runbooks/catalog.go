package runbooks

import (
	"fmt"
	"strings"
	"sync"

	"github.com/alaya-sre/alaya/incident"
)

// Catalog is a loaded set of runbooks in evaluation order. It is immutable and safe for
// concurrent use; a reload builds a new Catalog.
type Catalog struct {
	runbooks []*Runbook
	byName   map[string]*Runbook
	states   sync.Pool // of *evalState: a VM and the per-event path values
}

// Decision is the outcome of one runbook's rule for one event, with the reason a person can
// read: the sub-expression that decided and the value it saw.
type Decision struct {
	Runbook *Runbook
	Matched bool
	Why     string
	// Clauses are Why's parts (joined by "and"), each a whole sub-expression and its value.
	Clauses []string
	// Skipped is set when the rule was not evaluated, e.g. "an earlier runbook (x) stopped
	// matching".
	Skipped string
	// Err is set when the rule failed at run time (for example indexing an empty list); such
	// a runbook does not match.
	Err error
}

func newCatalog(rbs []*Runbook, paths *pathTable) *Catalog {
	sortRunbooks(rbs)
	c := &Catalog{runbooks: rbs, byName: make(map[string]*Runbook, len(rbs))}
	c.states.New = func() any { return newEvalState(paths) }
	for _, rb := range rbs {
		c.byName[rb.Name] = rb
	}
	return c
}

// Runbooks returns the runbooks in evaluation order.
func (c *Catalog) Runbooks() []*Runbook { return c.runbooks }

// Runbook returns the runbook called name, or nil.
func (c *Catalog) Runbook(name string) *Runbook { return c.byName[name] }

// Evaluate decides every runbook in order for ev and explains each decision. After a matched
// runbook with stop: true, the remaining runbooks are not evaluated and say so.
func (c *Catalog) Evaluate(ev *incident.Event) []Decision {
	return c.decide(ev, true)
}

// Match returns the decisions of the runbooks that matched, in order. Only these are
// explained, which keeps matching one incident against many runbooks cheap.
func (c *Catalog) Match(ev *incident.Event) []Decision {
	return c.decide(ev, false)
}

func (c *Catalog) decide(ev *incident.Event, all bool) []Decision {
	state := c.states.Get().(*evalState)
	defer c.states.Put(state)
	state.reset(NewEnv(ev))
	var out []Decision
	var stoppedBy *Runbook
	for _, rb := range c.runbooks {
		if stoppedBy != nil {
			if all {
				out = append(out, Decision{Runbook: rb, Skipped: fmt.Sprintf("an earlier runbook (%s) stopped matching", stoppedBy.Name)})
			}
			continue
		}
		ok, err := rb.rule.eval(state)
		if !ok && !all {
			continue
		}
		d := Decision{Runbook: rb, Matched: ok, Err: err}
		if err != nil {
			d.Why = "rule failed: " + oneLine(err)
		} else {
			d.Clauses = rb.rule.clauses(state)
			d.Why = strings.Join(d.Clauses, " and ")
		}
		out = append(out, d)
		if ok && rb.Stop {
			stoppedBy = rb
		}
	}
	return out
}
