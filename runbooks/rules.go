package runbooks

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/parser"
	"github.com/expr-lang/expr/vm"
)

// rule is a compiled match rule. The whole rule runs on the hot path; the explanation tree is
// only walked for runbooks whose decision someone will read (a match, or `alaya plan`), and its
// leaves are compiled on first use so loading 1,000 runbooks stays fast.
type rule struct {
	src    string
	prog   *vm.Program
	params map[string]any

	once sync.Once
	root *why
}

// why is a node of a rule's and/or/not structure. Leaves are the sub-expressions that decide.
type why struct {
	op   string // "and", "or", "not" or "" for a leaf
	kids []*why
	src  string
	prog *vm.Program
	lhs  string // for comparisons: the side worth showing the value of
	lhsP *vm.Program
}

func compileRule(src string, params map[string]any) (*rule, error) {
	prog, err := compileExpr(src, Env{}, params, expr.AsBool())
	if err != nil {
		return nil, err
	}
	return &rule{src: src, prog: prog, params: params}, nil
}

// eval runs the rule on the hot path.
func (r *rule) eval(machine *vm.VM, env *Env) (bool, error) {
	out, err := machine.Run(r.prog, env)
	if err != nil {
		return false, err
	}
	b, _ := out.(bool)
	return b, nil
}

// explain says which sub-expression decided the outcome and what it saw.
func (r *rule) explain(machine *vm.VM, env *Env) string {
	r.once.Do(r.buildWhy)
	_, text := r.root.eval(machine, env)
	return text
}

func (r *rule) buildWhy() {
	tree, err := parser.Parse(r.src)
	if err == nil {
		r.root = r.whyOf(tree.Node)
	}
	if r.root == nil || !r.root.compile(r.params) {
		r.root = &why{src: strings.TrimSpace(r.src), prog: r.prog}
	}
}

func (r *rule) whyOf(n ast.Node) *why {
	switch n := n.(type) {
	case *ast.BinaryNode:
		switch n.Operator {
		case "&&", "and":
			return &why{op: "and", kids: []*why{r.whyOf(n.Left), r.whyOf(n.Right)}}
		case "||", "or":
			return &why{op: "or", kids: []*why{r.whyOf(n.Left), r.whyOf(n.Right)}}
		case "==", "!=", "<", ">", "<=", ">=", "in", "contains", "startsWith", "endsWith", "matches":
			w := &why{src: n.String()}
			if !isLiteral(n.Left) {
				w.lhs = n.Left.String()
			}
			return w
		}
	case *ast.UnaryNode:
		if n.Operator == "!" || n.Operator == "not" {
			return &why{op: "not", kids: []*why{r.whyOf(n.Node)}}
		}
	}
	return &why{src: n.String()}
}

func isLiteral(n ast.Node) bool {
	switch n.(type) {
	case *ast.StringNode, *ast.IntegerNode, *ast.FloatNode, *ast.BoolNode, *ast.NilNode, *ast.ArrayNode:
		return true
	}
	return false
}

// compile compiles every leaf; false means some leaf did not survive printing and the caller
// falls back to explaining the rule as a whole.
func (w *why) compile(params map[string]any) bool {
	if w.op != "" {
		w.kids = flatten(w.op, w.kids)
		for _, k := range w.kids {
			if !k.compile(params) {
				return false
			}
		}
		return true
	}
	var err error
	if w.prog, err = compileExpr(w.src, Env{}, params, expr.AsBool()); err != nil {
		return false
	}
	if w.lhs != "" {
		if w.lhsP, err = compileExpr(w.lhs, Env{}, params); err != nil {
			w.lhs = ""
		}
	}
	return true
}

// flatten turns a && (b && c) into and(a, b, c) so the explanation reads as written.
func flatten(op string, kids []*why) []*why {
	var out []*why
	for _, k := range kids {
		if k.op == op && op != "not" {
			out = append(out, flatten(op, k.kids)...)
		} else {
			out = append(out, k)
		}
	}
	return out
}

func (w *why) eval(machine *vm.VM, env *Env) (bool, string) {
	switch w.op {
	case "not":
		v, text := w.kids[0].eval(machine, env)
		return !v, text
	case "and", "or":
		want := w.op == "or" // the value that decides on its own
		var texts []string
		for _, k := range w.kids {
			v, text := k.eval(machine, env)
			if v == want {
				return v, text
			}
			texts = append(texts, text)
		}
		return !want, strings.Join(texts, " and ")
	}
	return w.leaf(machine, env)
}

func (w *why) leaf(machine *vm.VM, env *Env) (bool, string) {
	out, err := machine.Run(w.prog, env)
	if err != nil {
		return false, fmt.Sprintf("%s failed: %v", w.src, oneLine(err))
	}
	v, _ := out.(bool)
	text := fmt.Sprintf("%s is %v", w.src, v)
	if w.lhsP != nil {
		if lv, err := machine.Run(w.lhsP, env); err == nil {
			text += fmt.Sprintf(" (%s is %s)", w.lhs, showValue(lv))
		}
	}
	return v, text
}

// showValue prints a value the way it would be written in a rule, capped for notes.
func showValue(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	s := string(b)
	if len(s) > 120 {
		s = s[:117] + "..."
	}
	return s
}

func oneLine(err error) string {
	s, _, _ := strings.Cut(err.Error(), "\n")
	return strings.TrimSpace(s)
}
