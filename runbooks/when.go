package runbooks

import (
	"errors"
	"fmt"

	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/vm"
)

// ErrNotCompiled means a step's `when` was not bound by Runbook.Plan, for example because the
// plan was decoded from JSON. Running such a step unconditionally could act where the author
// said not to, so ShouldRun refuses instead.
var ErrNotCompiled = errors.New("when condition is not compiled: re-plan with Runbook.Plan")

// ShouldRun evaluates the step's `when` for one host over the results of the earlier steps on
// that host. A step without `when` always runs. A result missing from results (the step did
// not run on the host) reads as the zero StepResult: ok false, skipped false.
func (s *Step) ShouldRun(results map[string]StepResult) (bool, error) {
	if s.When == "" {
		return true, nil
	}
	if s.when == nil {
		return false, fmt.Errorf("step %s: %w", s.Name, ErrNotCompiled)
	}
	env := &WhenEnv{Env: s.when.env, Steps: results}
	if env.Steps == nil {
		env.Steps = map[string]StepResult{}
	}
	out, err := (&vm.VM{}).Run(s.when.prog, env)
	if err != nil {
		return false, fmt.Errorf("step %s: when: %s", s.Name, oneLine(err))
	}
	b, _ := out.(bool)
	return b, nil
}

// stepRef is a literal reference to steps.NAME or steps["NAME"] in a condition.
type stepRef struct {
	name string
	from int
}

func stepRefs(root ast.Node) []stepRef {
	v := &stepRefVisitor{}
	ast.Walk(&root, v)
	return v.refs
}

type stepRefVisitor struct{ refs []stepRef }

func (v *stepRefVisitor) Visit(node *ast.Node) {
	m, ok := (*node).(*ast.MemberNode)
	if !ok {
		return
	}
	if id, ok := m.Node.(*ast.IdentifierNode); !ok || id.Value != "steps" {
		return
	}
	if s, ok := m.Property.(*ast.StringNode); ok {
		v.refs = append(v.refs, stepRef{name: s.Value, from: m.Property.Location().From})
	}
}
