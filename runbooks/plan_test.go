package runbooks

import (
	"encoding/json"
	"errors"
	"slices"
	"testing"

	"github.com/alaya-sre/alaya/incident"
)

func jvm(t *testing.T) *Runbook {
	t.Helper()
	c, err := LoadDir("testdata/good", testInventory(t))
	if err != nil {
		t.Fatal(err)
	}
	return c.Runbook("jvm-heap")
}

func withHosts(hosts ...any) *incident.Event {
	return event(func(i *incident.Incident) {
		i.Alerts = nil
		for _, h := range hosts {
			i.Alerts = append(i.Alerts, incident.Alert{Summary: "java.lang.OutOfMemoryError", Details: map[string]any{"host": h}})
		}
	})
}

func TestPlanTargets(t *testing.T) {
	rb := jvm(t) // labels role=app, max_targets 2
	tests := []struct {
		name    string
		ev      *incident.Event
		targets []string
		refused []Refusal
	}{
		{"one", withHosts("app-3"), []string{"app-3"}, nil},
		{"dedup and sort", withHosts("app-2", "app-1", "app-2"), []string{"app-1", "app-2"}, nil},
		{"unknown", withHosts("app-1", "app-9.example.com"), []string{"app-1"},
			[]Refusal{{"app-9.example.com", "not in the inventory"}}},
		{"wrong labels", withHosts("db-1", "app-1"), []string{"app-1"},
			[]Refusal{{"db-1", "does not carry the labels role=app"}}},
		{"over max", withHosts("app-3", "app-1", "app-2"), []string{"app-1", "app-2"},
			[]Refusal{{"app-3", "over max_targets (2)"}}},
		{"none", withHosts(), []string{}, nil},
		{"not a string", withHosts(42.0, "", "app-1"), []string{"app-1"}, []Refusal{{"42", "not in the inventory"}}},
		{"injection", withHosts("app-1; reboot"), []string{}, []Refusal{{"app-1; reboot", "not in the inventory"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := rb.Plan(tt.ev, testInventory(t))
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(p.Targets, tt.targets) || !slices.Equal(p.Refused, tt.refused) {
				t.Errorf("targets %q refused %q, want %q %q", p.Targets, p.Refused, tt.targets, tt.refused)
			}
		})
	}
}

func TestPlanLabelsOnly(t *testing.T) {
	c := loadMatch(t)
	p, err := c.Runbook("checkout-high").Plan(event(nil), testInventory(t))
	if err != nil {
		t.Fatal(err)
	}
	// service=checkout selects app-1..3; default max_targets is 5.
	if !slices.Equal(p.Targets, []string{"app-1", "app-2", "app-3"}) {
		t.Errorf("targets %v", p.Targets)
	}
}

func TestPlanRendersEverything(t *testing.T) {
	p, err := jvm(t).Plan(withHosts("app-3"), testInventory(t))
	if err != nil {
		t.Fatal(err)
	}
	kinds := []string{}
	for _, s := range p.Steps {
		kinds = append(kinds, s.Kind)
	}
	if !slices.Equal(kinds, []string{"run", "collect", "gate", "heap_dump", "lb_detach", "restart", "lb_attach"}) {
		t.Errorf("kinds %v", kinds)
	}
	if got := p.Steps[0].Commands["app-3"]; got != `__alaya_1='checkout' __alaya_2='checkout'; sudo -u "${__alaya_1}" jcmd $(pgrep -f -u "${__alaya_2}" java | head -1) GC.heap_info` {
		t.Errorf("command %q", got)
	}
	if g := p.Steps[2].Gate; g == nil || g.Expires != 20*60e9 || !slices.Equal(g.Approvers.Teams, []string{"checkout-oncall"}) {
		t.Errorf("gate %+v", g)
	}
	if a := p.Steps[4].Action["app-3"]; a["server"] != "app-3" || a["lb_host"] != "lb-1" || a["min_healthy"] != "1" {
		t.Errorf("detach %v", a)
	}
	if a := p.Steps[3].Action["app-3"]; a["path"] != "/var/tmp/alaya-PINC1-app-3.hprof" || a["compress"] != "true" {
		t.Errorf("heap dump %v", a)
	}
	if p.Why == "" || p.Version != jvm(t).Version || p.Incident != "PINC1" {
		t.Errorf("plan header %+v", p)
	}
}

func TestPlanHash(t *testing.T) {
	rb, inv := jvm(t), testInventory(t)
	plan := func(ev *incident.Event) *Plan {
		p, err := rb.Plan(ev, inv)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	base := plan(withHosts("app-3"))
	if h := base.Hash(); h != plan(withHosts("app-3")).Hash() || len(h) != 64 {
		t.Fatalf("hash not stable: %s", h)
	}
	// Round trip through JSON (how a plan is parked while a person decides) keeps the hash.
	b, _ := json.Marshal(base)
	var back Plan
	if err := json.Unmarshal(b, &back); err != nil || back.Hash() != base.Hash() {
		t.Errorf("hash changed through JSON: %v", err)
	}
	changes := map[string]func(p *Plan){
		"target":  func(p *Plan) { p.Targets = []string{"app-2"} },
		"command": func(p *Plan) { p.Steps[0].Commands["app-3"] += " " },
		"action":  func(p *Plan) { p.Steps[5].Action["app-3"]["service"] = "other" },
		"gate":    func(p *Plan) { p.Steps[2].Gate.Approvers.Users = []string{"mallory"} },
		"version": func(p *Plan) { p.Version = "000000000000" },
		"order":   func(p *Plan) { p.Steps[4], p.Steps[5] = p.Steps[5], p.Steps[4] },
		"timeout": func(p *Plan) { p.Steps[0].Timeout++ },
		"path":    func(p *Plan) { p.Steps[1].Paths["app-3"] = []string{"/etc/shadow"} },
	}
	for name, change := range changes {
		p := plan(withHosts("app-3"))
		change(p)
		if p.Hash() == base.Hash() {
			t.Errorf("%s: hash did not change", name)
		}
	}
	// encoding/json maps invalid UTF-8 to U+FFFD; the hash must still tell such bytes apart.
	x, y := plan(withHosts("app-3")), plan(withHosts("app-3"))
	x.Steps[0].Commands["app-3"], y.Steps[0].Commands["app-3"] = "\xff", "\xfe"
	if x.Hash() == y.Hash() {
		t.Error("commands differing in invalid UTF-8 share a hash")
	}
	p := plan(withHosts("app-3"))
	p.Why, p.Refused = "reworded", []Refusal{{"x", "y"}}
	if p.Hash() != base.Hash() {
		t.Error("why and refusals are not executed and must not change the hash")
	}
}

func TestShouldRun(t *testing.T) {
	p, err := jvm(t).Plan(withHosts("app-3"), testInventory(t))
	if err != nil {
		t.Fatal(err)
	}
	detach := &p.Steps[4]
	for _, tt := range []struct {
		results map[string]StepResult
		want    bool
	}{
		{map[string]StepResult{"heap_summary": {OK: true}}, true},
		{map[string]StepResult{"heap_summary": {OK: false, ExitCode: 1}}, false},
		{nil, false}, // heap_summary did not run on this host
	} {
		got, err := detach.ShouldRun(tt.results)
		if err != nil || got != tt.want {
			t.Errorf("ShouldRun(%v) = %v, %v; want %v", tt.results, got, err, tt.want)
		}
	}
	if ok, err := p.Steps[0].ShouldRun(nil); !ok || err != nil {
		t.Errorf("a step without when runs: %v %v", ok, err)
	}
	b, _ := json.Marshal(detach)
	var decoded Step
	_ = json.Unmarshal(b, &decoded)
	if _, err := decoded.ShouldRun(nil); !errors.Is(err, ErrNotCompiled) {
		t.Errorf("decoded step: err = %v, want ErrNotCompiled", err)
	}
}
