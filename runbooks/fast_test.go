package runbooks

import (
	"testing"

	"github.com/alaya-sre/alaya/incident"
	"github.com/expr-lang/expr/vm"
)

// TestFastPathAgreesWithVM holds the Go fast path to expr's semantics: every rule must give
// the same outcome (and fail the same way) as the whole rule run in expr's VM.
func TestFastPathAgreesWithVM(t *testing.T) {
	rules := []string{
		`service == "checkout"`, `service != "checkout"`, `urgency == "high" && priority in ["P1", "P2"]`,
		`incident.number > 40`, `incident.number <= 42.0`, `incident.number in [1, 42]`,
		`alerts[0].details.value > 2`, `alerts[0].details.value == 2.5`, `alerts[0].details.host startsWith "app"`,
		`alerts[0].details.value startsWith "2"`, `alerts[0].details.host > 3`, `alerts[0].details.missing == nil`,
		`any(alerts, .details.check == "disk")`, `all(alerts, .severity == "critical")`, `none(alerts, .severity == "info")`,
		`any(alerts, .details.value >= 2)`, `any(alerts, .details.nested.k == "v")`, `all(alerts, .summary matches "^p9")`,
		`incident.title matches "(?i)LATENCY"`, `incident.title endsWith "high"`, `labels.team == "payments"`,
		`labels.nope == ""`, `service in params.services`, `service == params.svc`, `!(urgency == "low") || service == "x"`,
		`len(alerts) > 1 && alerts[1].details.host == "app-2"`, `any(incident.teams, .name == "payments")`,
		`incident.service.name contains "out"`, `event.type == "incident.triggered" && not (service in ["a"])`,
	}
	params := map[string]any{"services": []string{"checkout", "search"}, "svc": "checkout"}
	events := []*incident.Event{
		event(nil),
		event(func(i *incident.Incident) { i.Alerts = nil; i.Urgency = "low" }),
		event(func(i *incident.Incident) {
			i.Labels = map[string]string{"team": "payments"}
			i.Teams = []incident.Ref{{Summary: "payments"}}
			i.Alerts = []incident.Alert{
				{Summary: "p99", Severity: "critical", Details: map[string]any{"value": 2.5, "nested": map[string]any{"k": "v"}, "check": "disk"}},
				{Summary: "p95", Severity: "info", Details: map[string]any{"value": "high", "host": 7.0}},
			}
		}),
	}
	for _, src := range rules {
		r, err := compileRule(src, params, newPathTable())
		if err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		for i, ev := range events {
			env := NewEnv(ev)
			s := newEvalState(r.paths)
			s.reset(env)
			got, gotErr := r.eval(s)
			out, wantErr := (&vm.VM{}).Run(r.prog, env)
			want, _ := out.(bool)
			if got != want || (gotErr == nil) != (wantErr == nil) {
				t.Errorf("%s on event %d: fast %v, %v; vm %v, %v", src, i, got, gotErr, want, wantErr)
			}
			if r.root != nil {
				_ = r.explain(s)
			}
		}
	}
}

func TestFastPathUsed(t *testing.T) {
	r, err := compileRule(`service == "a" && any(alerts, .severity == "critical")`, nil, newPathTable())
	if err != nil {
		t.Fatal(err)
	}
	if r.root == nil || r.root.kids[0].fast == nil || r.root.kids[1].fast == nil {
		t.Fatalf("fast path not taken: %+v", r.root)
	}
}
