package runbooks

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/vm"
	"github.com/expr-lang/expr/vm/runtime"
)

// Matching one incident against a thousand runbooks must take well under a millisecond. Most
// rule leaves compare a field of the incident with a literal (service == "checkout",
// urgency == "high", incident.title contains "disk"); such a field is a path, fetched once
// per event into a slot shared by every runbook loaded together, and the comparison runs as
// plain Go with expr's own runtime helpers, so the semantics are expr's. Anything unusual
// (a type the helper does not expect, a failing fetch) falls back to the VM for the whole
// rule, which then says exactly what expr says.

// errFallback sends a rule back to the VM.
var errFallback = errors.New("fast path does not apply")

// pathTable interns field paths such as incident.service.name across the runbooks of one load.
type pathTable struct {
	src   []string // labels for explanations
	progs []*vm.Program
	index map[string]int
}

func newPathTable() *pathTable { return &pathTable{index: map[string]int{}} }

// intern returns the slot of a path, compiling it on first sight; ok is false when n is not a
// plain path over the environment.
func (t *pathTable) intern(n ast.Node) (int, bool) {
	if !isPath(n) {
		return 0, false
	}
	return t.internSrc(n.String(), n.String())
}

// internSrc interns a path program; label is how explanations name its value.
func (t *pathTable) internSrc(src, label string) (int, bool) {
	if i, ok := t.index[src]; ok {
		return i, true
	}
	prog, err := compileExpr(src, Env{}, nil)
	if err != nil {
		return 0, false
	}
	t.index[src] = len(t.src)
	t.src = append(t.src, label)
	t.progs = append(t.progs, prog)
	return len(t.src) - 1, true
}

func isPath(n ast.Node) bool {
	switch n := n.(type) {
	case *ast.IdentifierNode:
		return n.Value != "params" && n.Value != "steps"
	case *ast.MemberNode:
		switch n.Property.(type) {
		case *ast.StringNode, *ast.IntegerNode:
			return !n.Optional && !n.Method && isPath(n.Node)
		}
	}
	return false
}

// fastLeaf is path OP literal, or any/all/none(path, .field OP literal); for the quantified
// form the path slot holds the field of every element, fetched once per event.
type fastLeaf struct {
	path  int
	quant string // "", "any", "all" or "none"
	op    fastOp
	lit   any
	list  []any // for in
	re    *regexp.Regexp
}

type fastOp uint8

const (
	opEq fastOp = iota
	opNe
	opLt
	opGt
	opLe
	opGe
	opIn
	opContains
	opStartsWith
	opEndsWith
	opMatches
)

var fastOps = map[string]fastOp{
	"==": opEq, "!=": opNe, "<": opLt, ">": opGt, "<=": opLe, ">=": opGe, "in": opIn,
	"contains": opContains, "startsWith": opStartsWith, "endsWith": opEndsWith, "matches": opMatches,
}

func (b *ruleBuilder) fastLeaf(n ast.Node) *fastLeaf {
	if q, ok := n.(*ast.BuiltinNode); ok {
		return b.quantified(q)
	}
	bin, ok := n.(*ast.BinaryNode)
	if !ok {
		return nil
	}
	slot, ok := b.paths.intern(bin.Left)
	if !ok {
		return nil
	}
	return b.comparison(bin, slot)
}

// quantified handles any(alerts, .summary contains "x") and its all/none siblings.
func (b *ruleBuilder) quantified(q *ast.BuiltinNode) *fastLeaf {
	if (q.Name != "any" && q.Name != "all" && q.Name != "none") || len(q.Arguments) != 2 || !isPath(q.Arguments[0]) {
		return nil
	}
	pred, ok := q.Arguments[1].(*ast.PredicateNode)
	if !ok {
		return nil
	}
	bin, ok := pred.Node.(*ast.BinaryNode)
	if !ok || !isElementPath(bin.Left) {
		return nil
	}
	src := fmt.Sprintf("map(%s, %s)", q.Arguments[0], bin.Left)
	slot, ok := b.paths.internSrc(src, fmt.Sprintf("%s of %s", bin.Left, q.Arguments[0]))
	if !ok {
		return nil
	}
	f := b.comparison(bin, slot)
	if f != nil {
		f.quant = q.Name
	}
	return f
}

// isElementPath is .field.sub inside a predicate.
func isElementPath(n ast.Node) bool {
	switch n := n.(type) {
	case *ast.PointerNode:
		return n.Name == ""
	case *ast.MemberNode:
		switch n.Property.(type) {
		case *ast.StringNode, *ast.IntegerNode:
			return !n.Optional && !n.Method && isElementPath(n.Node)
		}
	}
	return false
}

func (b *ruleBuilder) comparison(bin *ast.BinaryNode, slot int) *fastLeaf {
	op, ok := fastOps[bin.Operator]
	if !ok {
		return nil
	}
	lit, ok := b.literal(bin.Right)
	if !ok {
		return nil
	}
	f := &fastLeaf{path: slot, op: op, lit: lit}
	switch op {
	case opMatches:
		pattern, ok := lit.(string)
		if !ok {
			return nil
		}
		if f.re, ok = compileRegexp(pattern); !ok {
			return nil
		}
	case opIn:
		if f.list, ok = literalList(lit); !ok {
			return nil
		}
	}
	return f
}

// literalList gives the elements of a literal list; `in` compares each with runtime.Equal, as
// expr's own runtime.In does for lists.
func literalList(v any) ([]any, bool) {
	switch v := v.(type) {
	case []any:
		return v, true
	case []string:
		out := make([]any, len(v))
		for i, s := range v {
			out[i] = s
		}
		return out, true
	}
	return nil, false
}

func compileRegexp(p string) (*regexp.Regexp, bool) {
	re, err := regexp.Compile(p)
	return re, err == nil
}

// literal is the value of a literal node, or of params.NAME.
func (b *ruleBuilder) literal(n ast.Node) (any, bool) {
	switch n := n.(type) {
	case *ast.StringNode:
		return n.Value, true
	case *ast.IntegerNode:
		return n.Value, true
	case *ast.FloatNode:
		return n.Value, true
	case *ast.BoolNode:
		return n.Value, true
	case *ast.ArrayNode:
		out := make([]any, len(n.Nodes))
		for i, e := range n.Nodes {
			v, ok := b.literal(e)
			if !ok || isList(v) {
				return nil, false
			}
			out[i] = v
		}
		return out, true
	case *ast.MemberNode:
		id, ok := n.Node.(*ast.IdentifierNode)
		name, ok2 := n.Property.(*ast.StringNode)
		if ok && ok2 && id.Value == "params" {
			v, found := b.params[name.Value]
			return v, found
		}
	}
	return nil, false
}

func isList(v any) bool {
	switch v.(type) {
	case []any, []string:
		return true
	}
	return false
}

func (f *fastLeaf) eval(s *evalState) (bool, error) {
	v, err := s.value(f.path)
	if err != nil {
		return false, err
	}
	if f.quant == "" {
		return f.compare(v)
	}
	each, ok := v.([]any)
	if !ok {
		return false, errFallback
	}
	for _, e := range each {
		r, err := f.compare(e)
		if err != nil {
			return false, err
		}
		switch {
		case f.quant == "any" && r:
			return true, nil
		case f.quant == "all" && !r, f.quant == "none" && r:
			return false, nil
		}
	}
	return f.quant != "any", nil
}

func (f *fastLeaf) compare(v any) (bool, error) {
	switch f.op {
	case opEq:
		return runtime.Equal(v, f.lit), nil
	case opNe:
		return !runtime.Equal(v, f.lit), nil
	case opIn:
		for _, e := range f.list {
			if runtime.Equal(v, e) {
				return true, nil
			}
		}
		return false, nil
	case opContains, opStartsWith, opEndsWith, opMatches:
		return f.text(v)
	}
	return f.order(v)
}

// order compares numbers; expr's helpers panic on types they cannot order, and then the VM
// reports the rule's error in expr's words.
func (f *fastLeaf) order(v any) (result bool, err error) {
	defer func() {
		if recover() != nil {
			result, err = false, errFallback
		}
	}()
	switch f.op {
	case opLt:
		return runtime.Less(v, f.lit), nil
	case opGt:
		return runtime.More(v, f.lit), nil
	case opLe:
		return runtime.LessOrEqual(v, f.lit), nil
	}
	return runtime.MoreOrEqual(v, f.lit), nil
}

func (f *fastLeaf) text(v any) (bool, error) {
	a, ok := v.(string)
	if !ok {
		return false, errFallback
	}
	if f.op == opMatches {
		return f.re.MatchString(a), nil
	}
	b, ok := f.lit.(string)
	if !ok {
		return false, errFallback
	}
	switch f.op {
	case opContains:
		return strings.Contains(a, b), nil
	case opStartsWith:
		return strings.HasPrefix(a, b), nil
	}
	return strings.HasSuffix(a, b), nil
}

// evalState is one event's evaluation: its environment, a VM, and the path values fetched so
// far. A catalog pools them; gen marks which slots hold this event's values, so a reused
// state needs no clearing.
type evalState struct {
	env     *Env
	machine *vm.VM
	paths   *pathTable
	vals    []any
	errs    []error
	gens    []uint32
	gen     uint32
}

func newEvalState(paths *pathTable) *evalState {
	n := len(paths.src)
	return &evalState{machine: &vm.VM{}, paths: paths, vals: make([]any, n), errs: make([]error, n), gens: make([]uint32, n)}
}

// reset points the state at a new event.
func (s *evalState) reset(env *Env) {
	s.env = env
	s.gen++
	if s.gen == 0 { // wrapped: old marks could look current
		clear(s.gens)
		s.gen = 1
	}
}

func (s *evalState) value(slot int) (any, error) {
	if s.gens[slot] != s.gen {
		s.vals[slot], s.errs[slot] = s.machine.Run(s.paths.progs[slot], s.env)
		s.gens[slot] = s.gen
	}
	return s.vals[slot], s.errs[slot]
}

func (s *evalState) run(prog *vm.Program) (bool, error) {
	out, err := s.machine.Run(prog, s.env)
	if err != nil {
		return false, err
	}
	b, _ := out.(bool)
	return b, nil
}

// showValue prints a value the way it would be written in a rule, capped for notes.
func showValue(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return clipName(string(b))
}
