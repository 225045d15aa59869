package runbooks

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/alaya-sre/alaya/internal/yamlfile"
	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/vm"
)

// stepDef is a checked step, ready to be rendered for an incident.
type stepDef struct {
	name            string
	kind            string
	mutating        bool
	timeout         time.Duration
	continueOnError bool
	report          Report
	whenSrc         string
	when            *vm.Program
	run             *template
	collect         []*template
	gate            *Gate
	params          []actionParam
	pos             yamlfile.Pos
}

// actionParam is one parameter of an action step: a template, or a fixed value.
type actionParam struct {
	key   string
	tmpl  *template
	shell bool // rendered as a shell command (quoted interpolations), e.g. a health check
	value string
}

var kindKeys = []string{KindRun, KindCollect, KindGate, KindRestart, KindLBDetach, KindLBAttach, KindHeapDump}

// defaultTimeouts per kind; actions wait for real things (a JVM writing gigabytes, draining).
var defaultTimeouts = map[string]time.Duration{
	KindRun: DefaultStepTimeout, KindCollect: DefaultStepTimeout, KindRestart: 2 * time.Minute,
	KindLBDetach: 5 * time.Minute, KindLBAttach: 5 * time.Minute, KindHeapDump: 30 * time.Minute,
}

func (l *loader) steps(raw fileYAML) {
	l.rb.Note = Note{Title: raw.Note.Title, Lines: raw.Note.Lines}
	if l.rb.Note.Lines <= 0 {
		l.rb.Note.Lines = DefaultReportLines
	}
	seen := map[string]int{}
	for i, s := range raw.Steps {
		path := fmt.Sprintf("steps[%d]", i)
		if prev, dup := seen[s.Name]; dup && s.Name != "" {
			l.errs.Add(l.doc.Pos(path+".name"), "duplicate step name %q (first at line %d)", s.Name, prev)
		}
		seen[s.Name] = l.doc.Pos(path).Line
		if def := l.step(path, s); def != nil {
			l.rb.steps = append(l.rb.steps, def)
		}
	}
	l.gates()
}

func (l *loader) step(path string, s stepYAML) *stepDef {
	def := &stepDef{name: s.Name, continueOnError: s.ContinueOnError, timeout: s.Timeout, pos: l.doc.Pos(path)}
	switch {
	case s.Name == "":
		l.errs.Add(l.doc.Pos(path), "step without a name")
	case !nameRe.MatchString(s.Name):
		l.errs.Add(l.doc.Pos(path+".name"), "step name %q: expected lower case letters, digits, - and _", s.Name)
	}
	var kinds []string
	for _, k := range kindKeys {
		if l.doc.Node(path+"."+k) != nil {
			kinds = append(kinds, k)
		}
	}
	switch {
	case len(kinds) == 0:
		l.errs.Add(l.doc.Pos(path), "step %q: missing its kind: expected one of %s", s.Name, strings.Join(kindKeys, ", "))
		return nil
	case len(kinds) > 1:
		l.errs.Add(l.doc.Pos(path), "step %q: has %s: a step does exactly one thing", s.Name, strings.Join(kinds, " and "))
		return nil
	}
	def.kind, def.mutating = kinds[0], mutatingKinds[kinds[0]]
	if s.Timeout < 0 {
		l.errs.Add(l.doc.Pos(path+".timeout"), "timeout must not be negative")
	}
	if def.timeout == 0 {
		def.timeout = defaultTimeouts[def.kind]
	}
	l.report(path, s.Report, def)
	l.when(path, s.When, def)
	l.body(path, s, def)
	return def
}

func (l *loader) report(path string, r reportYAML, def *stepDef) {
	def.report = Report{Lines: r.Lines, Match: r.Match, Label: r.Label}
	if def.report.Lines <= 0 {
		def.report.Lines = l.rb.Note.Lines
	}
	if r.Match != "" {
		if _, err := regexp.Compile(r.Match); err != nil {
			l.errs.Add(l.doc.Pos(path+".report.match"), "report.match: %v", err)
		}
	}
}

// when compiles the condition and checks it names only earlier steps, so a typo in a step
// name is a load error instead of a condition that is silently never true.
func (l *loader) when(path, src string, def *stepDef) {
	if strings.TrimSpace(src) == "" {
		return
	}
	def.whenSrc = strings.TrimSpace(src)
	prog, err := compileExpr(src, WhenEnv{}, l.rb.Params, expr.AsBool())
	if err != nil {
		l.exprErr(path+".when", err)
		return
	}
	earlier := l.rb.StepNames()
	for _, ref := range stepRefs(prog.Node()) {
		if !slices.Contains(earlier, ref.name) {
			line, col := lineCol(src, ref.from)
			l.exprErr(path+".when", &exprError{Line: line, Col: col,
				Msg: fmt.Sprintf("when refers to step %q, which is not an earlier step (%s)", ref.name, listOr(earlier, "earlier: ", "there are no earlier steps"))})
		}
	}
	def.when = prog
}

func (l *loader) body(path string, s stepYAML, def *stepDef) {
	switch def.kind {
	case KindRun:
		def.run = l.template(path+".run", s.Run, true, true)
	case KindCollect:
		l.collect(path, s.Collect, def)
	case KindGate:
		def.gate = l.gate(path, s.Gate, s.Name)
	case KindRestart:
		def.params = l.restart(path+".restart", s.Restart)
	case KindLBDetach:
		def.params = l.lb(path+".lb_detach", s.LBDetach, true)
	case KindLBAttach:
		def.params = l.lb(path+".lb_attach", s.LBAttach, false)
	case KindHeapDump:
		def.params = l.heapDump(path+".heap_dump", s.HeapDump)
	}
}

// template compiles a template held at path; shell templates see the same environment as
// value templates, and are parsed as shell so that every value goes where the shell reads
// it once, as data.
func (l *loader) template(path, src string, required, shell bool) *template {
	if strings.TrimSpace(src) == "" {
		if required {
			l.errs.Add(l.doc.Pos(path), "empty %s", path[strings.LastIndex(path, ".")+1:])
		}
		return nil
	}
	t, err := compileTemplate(src, TemplateEnv{}, l.rb.Params)
	if err != nil {
		l.exprErr(path, err)
		return nil
	}
	if shell && !l.shellTemplate(path, t) {
		return nil
	}
	return t
}

// shellTemplate decides where each value of a command goes, or reports why it cannot.
func (l *loader) shellTemplate(path string, t *template) bool {
	modes, errs := checkShell(t.src, t.parts)
	for _, e := range errs {
		l.exprErr(path, e)
	}
	if errs != nil {
		return false
	}
	n := 0
	for i := range t.parts {
		if t.parts[i].src != "" {
			t.parts[i].mode = modes[n]
			n++
		}
	}
	return true
}

func (l *loader) collect(path string, paths []string, def *stepDef) {
	if len(paths) == 0 {
		l.errs.Add(l.doc.Pos(path+".collect"), "collect: expected a list of absolute file paths")
	}
	for i, p := range paths {
		ppath := fmt.Sprintf("%s.collect[%d]", path, i)
		if !strings.HasPrefix(p, "/") && !strings.HasPrefix(p, "{{") {
			l.errs.Add(l.doc.Pos(ppath), "collect path %q: expected an absolute path", p)
			continue
		}
		if t := l.template(ppath, p, true, false); t != nil {
			def.collect = append(def.collect, t)
		}
	}
}

func (l *loader) gate(path string, g *gateYAML, name string) *Gate {
	gate := &Gate{Name: name, Expires: DefaultGateExpiry}
	if g == nil {
		return gate
	}
	if g.Expires < 0 {
		l.errs.Add(l.doc.Pos(path+".gate.expires"), "expires must not be negative")
	}
	if g.Expires > 0 {
		gate.Expires = g.Expires
	}
	gate.Approvers = Approvers{Users: g.Approvers.Users, Teams: g.Approvers.Teams}
	gate.Message = strings.TrimSpace(g.Message)
	return gate
}

// gates enforces the one rule that keeps people in charge: every step that changes a system
// comes after a gate, and a gate guards at least one such step.
func (l *loader) gates() {
	var gate *stepDef
	for i, s := range l.rb.steps {
		switch {
		case s.kind == KindGate:
			gate = s
			if !slices.ContainsFunc(l.rb.steps[i+1:], func(x *stepDef) bool { return x.mutating }) {
				l.errs.Add(s.pos, "gate %q guards nothing: no step after it changes a system", s.name)
			}
		case s.mutating && gate == nil:
			msg := fmt.Sprintf("step %q (%s) changes a system but no gate comes before it", s.name, s.kind)
			if later := l.laterGate(i); later != nil {
				msg += fmt.Sprintf("; gate %q (line %d) comes after it: move the gate before the steps it should guard", later.name, later.pos.Line)
			}
			l.errs.Add(s.pos, "%s", msg)
		}
	}
}

func (l *loader) laterGate(i int) *stepDef {
	for _, s := range l.rb.steps[i+1:] {
		if s.kind == KindGate {
			return s
		}
	}
	return nil
}
