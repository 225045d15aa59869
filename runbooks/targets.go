package runbooks

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"

	"github.com/alaya-sre/alaya/inventory"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/vm"
)

// Refusal reasons, stable so notes and goldens read the same everywhere.
const (
	reasonUnknown   = "not in the inventory"
	reasonOverLimit = "over max_targets (%d)"
	reasonLabels    = "does not carry the labels %s"
)

func (l *loader) targetsOf(raw targetsYAML) {
	l.rb.Targets = Targets{Expr: raw.Expr, Labels: raw.Labels}
	if strings.TrimSpace(raw.Expr) == "" && len(raw.Labels) == 0 {
		l.errs.Add(l.doc.Pos("targets"), "missing targets: give targets.expr (host names from the incident) or targets.labels (inventory labels), or both")
		return
	}
	if raw.Expr != "" {
		l.targetExpr(raw.Expr)
	}
	if len(raw.Labels) > 0 && l.inv != nil && len(l.inv.Select(raw.Labels)) == 0 {
		l.errs.Add(l.doc.Pos("targets.labels"), "targets.labels %s select no host of the inventory %s", showLabels(raw.Labels), l.inv.File)
	}
}

func (l *loader) targetExpr(src string) {
	prog, err := compileExpr(src, Env{}, l.rb.Params)
	if err != nil {
		l.exprErr("targets.expr", err)
		return
	}
	if t := prog.Node().Type(); t != nil && !namesType(t) {
		l.errs.Add(l.doc.Pos("targets.expr"), "targets.expr gives %s: expected a host name (string) or a list of host names", typeWord(t))
		return
	}
	l.rb.targets = prog
	if l.inv == nil {
		return
	}
	for _, name := range staticNames(prog.Node()) {
		if _, err := l.inv.Lookup(name); err != nil {
			l.errs.Add(l.doc.Pos("targets.expr"), "target %q is not a host of the inventory %s", name, l.inv.File)
		}
	}
}

func namesType(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.String, reflect.Interface:
		return true
	case reflect.Slice, reflect.Array:
		k := t.Elem().Kind()
		return k == reflect.String || k == reflect.Interface
	}
	return false
}

// staticNames returns the host names of a targets expression that is a literal, the only case
// where they are known before an incident arrives.
func staticNames(n ast.Node) []string {
	switch n := n.(type) {
	case *ast.StringNode:
		return []string{n.Value}
	case *ast.ConstantNode:
		s, _ := toWords(n.Value)
		return s
	case *ast.ArrayNode:
		var out []string
		for _, e := range n.Nodes {
			if s, ok := e.(*ast.StringNode); ok {
				out = append(out, s.Value)
			}
		}
		return out
	}
	return nil
}

// resolveTargets turns the runbook's targets into inventory hosts. Every name that is not an
// inventory host, lacks the labels, or is beyond max_targets is refused with a reason.
func (rb *Runbook) resolveTargets(machine *vm.VM, env *Env, inv *inventory.Inventory) ([]*inventory.Host, []Refusal, error) {
	names, err := rb.targetNames(machine, env, inv)
	if err != nil {
		return nil, nil, err
	}
	var hosts []*inventory.Host
	var refused []Refusal
	for _, name := range names {
		h, err := inv.Lookup(name)
		switch {
		case err != nil:
			refused = append(refused, Refusal{Target: clipName(name), Reason: reasonUnknown})
		case !hasLabels(h, rb.Targets.Labels):
			refused = append(refused, Refusal{Target: name, Reason: fmt.Sprintf(reasonLabels, showLabels(rb.Targets.Labels))})
		default:
			hosts = append(hosts, h)
		}
	}
	if len(hosts) > rb.Limits.MaxTargets {
		for _, h := range hosts[rb.Limits.MaxTargets:] {
			refused = append(refused, Refusal{Target: h.Name, Reason: fmt.Sprintf(reasonOverLimit, rb.Limits.MaxTargets)})
		}
		hosts = hosts[:rb.Limits.MaxTargets]
	}
	return hosts, refused, nil
}

// targetNames lists the named hosts, deduplicated and sorted.
func (rb *Runbook) targetNames(machine *vm.VM, env *Env, inv *inventory.Inventory) ([]string, error) {
	var names []string
	if rb.targets != nil {
		out, err := machine.Run(rb.targets, env)
		if err != nil {
			return nil, fmt.Errorf("%s: %s", strings.TrimSpace(rb.Targets.Expr), oneLine(err))
		}
		if names, err = toWords(out); err != nil {
			return nil, fmt.Errorf("%s: %w", strings.TrimSpace(rb.Targets.Expr), err)
		}
		if out == nil {
			names = nil
		}
	} else {
		for _, h := range inv.Select(rb.Targets.Labels) {
			names = append(names, h.Name)
		}
	}
	names = slices.DeleteFunc(names, func(s string) bool { return s == "" })
	slices.Sort(names)
	return slices.Compact(names), nil
}

func hasLabels(h *inventory.Host, want map[string]string) bool {
	for k, v := range want {
		if h.Labels[k] != v {
			return false
		}
	}
	return true
}

func showLabels(m map[string]string) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, k+"="+m[k])
	}
	return strings.Join(parts, ",")
}

// clipName keeps a hostile "host name" from an alert from flooding the note.
func clipName(s string) string {
	const limit = 128
	if len(s) <= limit {
		return s
	}
	for i := limit; i > 0; i-- {
		if isRuneStart(s[i]) {
			return s[:i] + "…"
		}
	}
	return s[:limit]
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }

func typeWord(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Int, reflect.Int64, reflect.Float64:
		return "a number"
	case reflect.Bool:
		return "true or false"
	case reflect.Map:
		return "a map"
	case reflect.Struct:
		return "an object"
	}
	return "a " + t.String()
}
