package sources

import (
	"fmt"
	"reflect"
	"regexp"
	"strings"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/vm"

	"github.com/alaya-sre/alaya/internal/yamlfile"
	"github.com/alaya-sre/alaya/runbooks"
)

// Env is what mapping expressions see: the JSON body of the request, decoded. A body that is
// not a JSON object is refused before any expression runs.
type Env struct {
	Body map[string]any `expr:"body"`
}

// field is one mapping expression: its key in the file, whether it must be present, and the
// kind its result must have (checked at load where the type is known, and on every body).
type field struct {
	key      string
	required bool
	kind     reflect.Kind // reflect.String, reflect.Bool, reflect.Map, or Interface (a time)
	src      func(*mappingYAML) string
}

// fields lists the mapping in the order it is checked and reported.
var fields = []field{
	{"id", true, reflect.String, func(m *mappingYAML) string { return m.ID }},
	{"dedup_key", true, reflect.String, func(m *mappingYAML) string { return m.DedupKey }},
	{"title", true, reflect.String, func(m *mappingYAML) string { return m.Title }},
	{"status", true, reflect.String, func(m *mappingYAML) string { return m.Status }},
	{"ignore", false, reflect.Bool, func(m *mappingYAML) string { return m.Ignore }},
	{"service", false, reflect.String, func(m *mappingYAML) string { return m.Service }},
	{"severity", false, reflect.String, func(m *mappingYAML) string { return m.Severity }},
	{"urgency", false, reflect.String, func(m *mappingYAML) string { return m.Urgency }},
	{"host", false, reflect.String, func(m *mappingYAML) string { return m.Host }},
	{"url", false, reflect.String, func(m *mappingYAML) string { return m.URL }},
	{"occurred_at", false, reflect.Interface, func(m *mappingYAML) string { return m.OccurredAt }},
	{"labels", false, reflect.Map, func(m *mappingYAML) string { return m.Labels }},
	{"details", false, reflect.Map, func(m *mappingYAML) string { return m.Details }},
}

// mapping is the compiled mapping: one program per field that the file sets.
type mapping struct {
	progs  map[string]*vm.Program
	alerts *vm.Program            // mapping.alerts; nil: one alert made of the fields above
	alert  map[string]*vm.Program // mapping.alert, per element of alerts
}

// compileMapping compiles every field against Env with the runbooks' compiler, so a
// misspelt name or a result of the wrong type is a load error at its line and column.
func compileMapping(doc *yamlfile.Doc, lines []string, m *mappingYAML) (*mapping, yamlfile.List) {
	var errs yamlfile.List
	out := &mapping{progs: map[string]*vm.Program{}}
	for _, f := range fields {
		src := f.src(m)
		path := "mapping." + f.key
		if strings.TrimSpace(src) == "" {
			if f.required {
				errs.Add(doc.Pos("mapping"), "missing mapping.%s: %s", f.key, hint[f.key])
			}
			continue
		}
		var opts []expr.Option
		if f.kind != reflect.Interface {
			opts = append(opts, expr.AsKind(f.kind))
		}
		prog, err := runbooks.CompileAt(doc, lines, path, src, Env{}, opts...)
		if err != nil {
			errs = append(errs, kindError(err))
			continue
		}
		out.progs[f.key] = prog
	}
	return out, append(errs, out.compileAlerts(doc, lines, m)...)
}

var expectRe = regexp.MustCompile(`^expected (string|map|slice), but got (.+)$`)

// friendlyKind words expr's "expected string, but got int" the way runbooks word a rule that
// is not a condition.
func friendlyKind(msg string) string {
	sm := expectRe.FindStringSubmatch(msg)
	if sm == nil {
		return msg
	}
	want := map[string]string{"string": "a string", "map": `a map such as {"key": value}`, "slice": "a list"}[sm[1]]
	got := sm[2]
	switch {
	case strings.HasPrefix(got, "int"), strings.HasPrefix(got, "float"):
		got = "number"
	case strings.HasPrefix(got, "[]"):
		got = "list"
	case strings.HasPrefix(got, "map["):
		got = "map"
	}
	return fmt.Sprintf("expected %s, but the expression gives a %s", want, got)
}

// hint says what a missing required field is for.
var hint = map[string]string{
	"id":        "an expression giving the alert's id in the tool; every delivery about one alert must give the same",
	"dedup_key": "an expression that is the same for a redelivery and different for a new event, e.g. the id and the status",
	"title":     "an expression giving a one-line summary",
	"status":    `an expression giving "triggered", "acknowledged" or "resolved"`,
}

// run evaluates every field on body. A runtime failure names the field: it is the sender's
// body that does not fit, and the 400 says which expression could not take it.
func (m *mapping) run(body map[string]any) (map[string]any, error) {
	env := Env{Body: body}
	out := make(map[string]any, len(m.progs))
	for _, f := range fields {
		prog, ok := m.progs[f.key]
		if !ok {
			continue
		}
		v, err := expr.Run(prog, env)
		if err != nil {
			return nil, fmt.Errorf("mapping.%s: %s", f.key, firstLine(err))
		}
		out[f.key] = v
	}
	alerts, err := m.runAlerts(body)
	if err != nil {
		return nil, err
	}
	if alerts != nil {
		out["alerts"] = alerts
	}
	return out, nil
}

func firstLine(err error) string {
	s, _, _ := strings.Cut(err.Error(), "\n")
	return strings.TrimSpace(s)
}
