package sources

import (
	"fmt"
	"reflect"
	"strings"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/vm"

	"github.com/alaya-sre/alaya/incident"
	"github.com/alaya-sre/alaya/internal/yamlfile"
	"github.com/alaya-sre/alaya/runbooks"
)

// AlertEnv is what the expressions of mapping.alert see: the body, and one element of
// mapping.alerts as `alert`.
type AlertEnv struct {
	Body  map[string]any `expr:"body"`
	Alert any            `expr:"alert"`
}

// maxAlerts bounds the alerts of one incident: a group larger than this is cut, as the
// tools themselves cut what they send.
const maxAlerts = 100

// alertFields is mapping.alert, in the order it is checked and reported.
var alertFields = []field{
	{"id", true, reflect.String, nil},
	{"summary", false, reflect.String, nil},
	{"status", false, reflect.String, nil},
	{"severity", false, reflect.String, nil},
	{"host", false, reflect.String, nil},
	{"details", false, reflect.Map, nil},
}

func (a *alertYAML) src(key string) string {
	return map[string]string{"id": a.ID, "summary": a.Summary, "status": a.Status,
		"severity": a.Severity, "host": a.Host, "details": a.Details}[key]
}

// compileAlerts compiles mapping.alerts and mapping.alert; alert is only allowed with alerts.
func (out *mapping) compileAlerts(doc *yamlfile.Doc, lines []string, m *mappingYAML) yamlfile.List {
	var errs yamlfile.List
	if strings.TrimSpace(m.Alerts) == "" {
		if m.Alert != (alertYAML{}) {
			errs.Add(doc.Pos("mapping.alert"), "mapping.alert needs mapping.alerts: the list whose elements it maps")
		}
		return errs
	}
	prog, err := runbooks.CompileAt(doc, lines, "mapping.alerts", m.Alerts, Env{}, expr.AsKind(reflect.Slice))
	if err != nil {
		errs = append(errs, kindError(err))
	}
	out.alerts, out.alert = prog, map[string]*vm.Program{}
	for _, f := range alertFields {
		src, path := m.Alert.src(f.key), "mapping.alert."+f.key
		if strings.TrimSpace(src) == "" {
			if f.required {
				errs.Add(doc.Pos("mapping.alerts"), "missing %s: an expression over alert giving its id", path)
			}
			continue
		}
		p, err := runbooks.CompileAt(doc, lines, path, src, AlertEnv{}, expr.AsKind(f.kind))
		if err != nil {
			errs = append(errs, kindError(err))
			continue
		}
		out.alert[f.key] = p
	}
	return errs
}

// runAlerts evaluates mapping.alerts and maps each element; nil when the mapping has none.
func (m *mapping) runAlerts(body map[string]any) ([]map[string]any, error) {
	if m.alerts == nil {
		return nil, nil
	}
	v, err := expr.Run(m.alerts, Env{Body: body})
	if err != nil {
		return nil, fmt.Errorf("mapping.alerts: %s", firstLine(err))
	}
	list, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("mapping.alerts: expected a list, found %s", kindOf(v))
	}
	out := make([]map[string]any, 0, min(len(list), maxAlerts))
	for i, el := range list[:min(len(list), maxAlerts)] {
		vals := map[string]any{}
		for _, f := range alertFields {
			p, ok := m.alert[f.key]
			if !ok {
				continue
			}
			r, err := expr.Run(p, AlertEnv{Body: body, Alert: el})
			if err != nil {
				return nil, fmt.Errorf("mapping.alert.%s (alert %d): %s", f.key, i+1, firstLine(err))
			}
			vals[f.key] = r
		}
		out = append(out, vals)
	}
	return out, nil
}

// groupAlerts turns the mapped elements into the incident's alerts. The incident's severity,
// status, host and details are each alert's defaults; an alert's own values win.
func (c *converter) groupAlerts(list []map[string]any, def incident.Alert) []incident.Alert {
	out := make([]incident.Alert, 0, len(list))
	for i, vals := range list {
		a := incident.Alert{
			ID: c.text(vals, "id", maxField), Summary: c.text(vals, "summary", maxTitle),
			Status: c.text(vals, "status", maxField), Severity: c.text(vals, "severity", maxField),
			Details: map[string]any{},
		}
		if a.ID == "" && c.err == nil {
			c.fail("mapping.alert.id (alert %d) must not be empty", i+1)
		}
		a.Key = a.ID
		a.Summary, a.Status, a.Severity = cmpOr(a.Summary, def.Summary), cmpOr(a.Status, def.Status), cmpOr(a.Severity, def.Severity)
		for k, v := range def.Details {
			a.Details[k] = v
		}
		for k, v := range c.details(vals["details"]) {
			a.Details[k] = v
		}
		if host := c.text(vals, "host", maxField); host != "" {
			a.Details["host"] = host
		}
		out = append(out, a)
	}
	return out
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// kindError words a kind mismatch like the rest of the mapping's errors.
func kindError(err error) *yamlfile.Error {
	ye := err.(*yamlfile.Error)
	ye.Msg = friendlyKind(ye.Msg)
	return ye
}
