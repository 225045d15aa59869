package runbooks

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strings"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/vm"
)

// exprError is a compile error inside one expression: Line is 1-based and Col 0-based within
// the expression's source, as expr reports them; the loader maps both into the YAML file.
type exprError struct {
	Line, Col int
	Msg       string
}

func (e *exprError) Error() string { return e.Msg }

// compileExpr compiles src against the environment type of envZero, with params substituted
// as constants (so they are type-checked too) and Alaya's helper functions available.
func compileExpr(src string, envZero any, params map[string]any, extra ...expr.Option) (*vm.Program, error) {
	pp := &paramPatcher{src: src, params: params}
	opts := append([]expr.Option{expr.Env(envZero), expr.Patch(pp), expr.MaxNodes(2000)}, functions...)
	opts = append(opts, extra...)
	prog, err := expr.Compile(src, opts...)
	if len(pp.errs) > 0 {
		return nil, pp.errs[0]
	}
	if err != nil {
		return nil, toExprError(src, err)
	}
	return prog, nil
}

// paramPatcher replaces params.NAME with the parameter's value, so that an unknown parameter
// is a load error and the value's type is checked where it is used.
type paramPatcher struct {
	src    string
	params map[string]any
	errs   []*exprError
}

func (p *paramPatcher) Visit(node *ast.Node) {
	m, ok := (*node).(*ast.MemberNode)
	if !ok {
		return
	}
	if id, ok := m.Node.(*ast.IdentifierNode); !ok || id.Value != "params" {
		return
	}
	name, ok := m.Property.(*ast.StringNode)
	if !ok {
		p.fail(node, "params must be indexed by a literal name, e.g. params.service")
		return
	}
	v, ok := p.params[name.Value]
	if !ok {
		p.fail(node, fmt.Sprintf("unknown parameter %q (%s)", name.Value, listOr(sortedKeys(p.params), "defined: ", "this runbook defines no params")))
		return
	}
	ast.Patch(node, &ast.ConstantNode{Value: v})
}

func (p *paramPatcher) fail(node *ast.Node, msg string) {
	line, col := lineCol(p.src, (*node).Location().From)
	p.errs = append(p.errs, &exprError{Line: line, Col: col, Msg: msg})
	ast.Patch(node, &ast.NilNode{})
}

// lineCol turns a rune offset into expr's convention: 1-based line, 0-based column.
func lineCol(src string, runeOffset int) (line, col int) {
	line = 1
	i := 0
	for _, r := range src {
		if i == runeOffset {
			break
		}
		i++
		col++
		if r == '\n' {
			line++
			col = 0
		}
	}
	return line, col
}

var (
	goTypeRe  = regexp.MustCompile(`\b(?:runbooks\.)?(\w+Env|StepResult)\b`)
	noFieldRe = regexp.MustCompile(`^type (\S+) has no field (\S+)$`)
	unknownRe = regexp.MustCompile(`^unknown name (\S+)$`)
	notBoolRe = regexp.MustCompile(`^expected bool, but got (\S+)$`)
)

// toExprError turns expr's error into positions and words an SRE can act on: Go type names
// become the names used in runbooks, and an unknown field lists the fields that exist.
func toExprError(src string, err error) *exprError {
	var fe *file.Error
	if !errors.As(err, &fe) {
		fe = &file.Error{Line: 1, Message: err.Error()}
	}
	if fe.Line == 0 {
		fe = fe.Bind(file.NewSource(src))
	}
	msg := fe.Message
	if sm := noFieldRe.FindStringSubmatch(msg); sm != nil {
		if fields := envFields(sm[1]); fields != nil {
			msg = fmt.Sprintf("unknown field %q (expected one of: %s)", sm[2], strings.Join(fields, ", "))
		}
	}
	if sm := notBoolRe.FindStringSubmatch(msg); sm != nil {
		msg = fmt.Sprintf("expected true or false, but the expression gives a %s", sm[1])
	}
	if sm := unknownRe.FindStringSubmatch(msg); sm != nil {
		msg = fmt.Sprintf("unknown name %q", sm[1])
	}
	msg = goTypeRe.ReplaceAllStringFunc(msg, func(s string) string { return friendlyType(s) })
	return &exprError{Line: max(fe.Line, 1), Col: fe.Column, Msg: msg}
}

var envTypes = map[string]reflect.Type{
	"Env": reflect.TypeFor[Env](), "EventEnv": reflect.TypeFor[EventEnv](), "RefEnv": reflect.TypeFor[RefEnv](),
	"IncidentEnv": reflect.TypeFor[IncidentEnv](), "AlertEnv": reflect.TypeFor[AlertEnv](),
	"HostEnv": reflect.TypeFor[HostEnv](), "TemplateEnv": reflect.TypeFor[TemplateEnv](),
	"WhenEnv": reflect.TypeFor[WhenEnv](), "StepResult": reflect.TypeFor[StepResult](),
}

// envFields lists the expr names of an environment type, for "expected one of" messages.
func envFields(goType string) []string {
	t, ok := envTypes[strings.TrimPrefix(goType, "runbooks.")]
	if !ok {
		return nil
	}
	var out []string
	for f := range t.Fields() {
		if f.Anonymous {
			out = append(out, envFields(f.Type.Name())...)
			continue
		}
		out = append(out, f.Tag.Get("expr"))
	}
	slices.Sort(out)
	return out
}

func friendlyType(s string) string {
	names := map[string]string{
		"Env": "the incident environment", "EventEnv": "event", "RefEnv": "reference",
		"IncidentEnv": "incident", "AlertEnv": "alert", "HostEnv": "host", "TemplateEnv": "the template environment",
		"WhenEnv": "the when environment", "StepResult": "step result",
	}
	if n, ok := names[strings.TrimPrefix(s, "runbooks.")]; ok {
		return n
	}
	return s
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// oneLine keeps the first line of an error: expr appends a source snippet after a newline.
func oneLine(err error) string {
	s, _, _ := strings.Cut(err.Error(), "\n")
	return strings.TrimSpace(s)
}

// listOr lists names after prefix, or says none when there are none.
func listOr(names []string, prefix, none string) string {
	if len(names) == 0 {
		return none
	}
	return prefix + strings.Join(names, ", ")
}
