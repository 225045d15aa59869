package runbooks

import (
	"fmt"
	"strings"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/parser"
	"github.com/expr-lang/expr/vm"
)

// rule is a compiled match rule. The whole rule is compiled and type-checked by expr at load;
// for evaluation it is also split into its and/or/not structure, so that
//
//   - the decision explains itself: the leaf that decided, and the value it saw, and
//   - the common leaves (a field of the incident compared with a literal) run as plain Go
//     over field values fetched once per event and shared by all runbooks (fast.go), while
//     every other leaf runs in expr's VM.
//
// If the split fails for some rule, that rule runs as a whole in the VM.
type rule struct {
	src   string
	prog  *vm.Program
	root  *node // nil: evaluate prog as a whole
	paths *pathTable
}

type nodeOp uint8

const (
	opLeaf nodeOp = iota
	opAnd
	opOr
	opNot
)

// node is one part of a rule: an and/or/not over kids, or a leaf.
type node struct {
	op   nodeOp
	kids []*node
	src  string      // the leaf as expr prints it, for explanations
	fast *fastLeaf   // the leaf as Go, when it has a simple shape
	prog *vm.Program // otherwise the leaf in the VM
	lhs  int         // for VM comparisons: the path slot whose value explanations show, or -1
}

func compileRule(src string, params map[string]any, paths *pathTable) (*rule, error) {
	prog, err := compileExpr(src, Env{}, params, expr.AsBool())
	if err != nil {
		return nil, err
	}
	r := &rule{src: strings.TrimSpace(src), prog: prog, paths: paths}
	tree, err := parser.Parse(src)
	if err != nil {
		return r, nil
	}
	b := &ruleBuilder{params: params, paths: paths, whole: prog}
	root := b.build(tree.Node)
	if b.ok {
		if root.op == opLeaf && root.fast == nil {
			root.prog = prog // one leaf: it is the rule
		}
		r.root = root
	}
	return r, nil
}

// ruleBuilder turns the parsed rule into nodes; ok turns false if some leaf cannot be
// compiled on its own, and then the rule runs whole.
type ruleBuilder struct {
	params map[string]any
	paths  *pathTable
	whole  *vm.Program
	ok     bool
}

func (b *ruleBuilder) build(n ast.Node) *node {
	b.ok = true
	return b.node(n)
}

func (b *ruleBuilder) node(n ast.Node) *node {
	switch n := n.(type) {
	case *ast.BinaryNode:
		switch n.Operator {
		case "&&", "and":
			return &node{op: opAnd, kids: b.flat(opAnd, n.Left, n.Right)}
		case "||", "or":
			return &node{op: opOr, kids: b.flat(opOr, n.Left, n.Right)}
		}
	case *ast.UnaryNode:
		if n.Operator == "!" || n.Operator == "not" {
			return &node{op: opNot, kids: []*node{b.node(n.Node)}}
		}
	}
	return b.leaf(n)
}

// flat turns a && (b && c) into and(a, b, c) so explanations read as written.
func (b *ruleBuilder) flat(op nodeOp, l, r ast.Node) []*node {
	var out []*node
	for _, k := range []*node{b.node(l), b.node(r)} {
		if k.op == op {
			out = append(out, k.kids...)
		} else {
			out = append(out, k)
		}
	}
	return out
}

func (b *ruleBuilder) leaf(n ast.Node) *node {
	leaf := &node{src: n.String(), lhs: -1}
	if f := b.fastLeaf(n); f != nil {
		leaf.fast = f
		return leaf
	}
	if bin, ok := n.(*ast.BinaryNode); ok && comparison[bin.Operator] {
		if slot, ok := b.paths.intern(bin.Left); ok {
			leaf.lhs = slot
		}
	}
	prog, err := compileExpr(leaf.src, Env{}, b.params, expr.AsBool())
	if err != nil {
		b.ok = false
		return leaf
	}
	leaf.prog = prog
	return leaf
}

var comparison = map[string]bool{
	"==": true, "!=": true, "<": true, ">": true, "<=": true, ">=": true,
	"in": true, "contains": true, "startsWith": true, "endsWith": true, "matches": true,
}

// eval decides the rule on the hot path.
func (r *rule) eval(s *evalState) (bool, error) {
	if r.root == nil {
		return s.run(r.prog)
	}
	v, err := r.root.eval(s)
	if err != nil {
		// Report exactly what expr says about the rule as a whole.
		return s.run(r.prog)
	}
	return v, nil
}

func (n *node) eval(s *evalState) (bool, error) {
	switch n.op {
	case opNot:
		v, err := n.kids[0].eval(s)
		return !v, err
	case opAnd, opOr:
		decisive := n.op == opOr
		for _, k := range n.kids {
			v, err := k.eval(s)
			if err != nil || v == decisive {
				return v, err
			}
		}
		return !decisive, nil
	}
	if n.fast != nil {
		return n.fast.eval(s)
	}
	return s.run(n.prog)
}

// explain says which leaf decided the outcome and what it saw.
func (r *rule) explain(s *evalState) string { return strings.Join(r.clauses(s), " and ") }

// clauses are the explanation's parts, each a whole sub-expression with what it saw, for a
// note that must break a long explanation between clauses rather than inside one.
func (r *rule) clauses(s *evalState) []string {
	if r.root == nil {
		v, err := s.run(r.prog)
		if err != nil {
			return []string{fmt.Sprintf("%s failed: %s", r.src, oneLine(err))}
		}
		return []string{fmt.Sprintf("%s is %v", r.src, v)}
	}
	_, texts := r.root.explain(s)
	return texts
}

func (n *node) explain(s *evalState) (bool, []string) {
	switch n.op {
	case opNot:
		v, texts := n.kids[0].explain(s)
		return !v, texts
	case opAnd, opOr:
		decisive := n.op == opOr
		var texts []string
		for _, k := range n.kids {
			v, kt := k.explain(s)
			if v == decisive {
				return v, kt
			}
			texts = append(texts, kt...)
		}
		return !decisive, texts
	}
	v, err := n.eval(s)
	if err != nil {
		return false, []string{fmt.Sprintf("%s failed: %s", n.src, oneLine(err))}
	}
	text := fmt.Sprintf("%s is %v", n.src, v)
	if slot := n.shown(); slot >= 0 {
		if lv, err := s.value(slot); err == nil {
			text += fmt.Sprintf(" (%s is %s)", s.paths.src[slot], showValue(lv))
		}
	}
	return v, []string{text}
}

func (n *node) shown() int {
	if n.fast != nil {
		return n.fast.path
	}
	return n.lhs
}
