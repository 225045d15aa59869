package runbooks

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/alaya-sre/alaya/incident"
)

// benchRules are the shapes real runbooks have: service and urgency checks, alert scans,
// detail lookups, regex matches on titles. Names vary so no two runbooks are the same.
var benchRules = []string{
	`service == "svc-%[1]d" && urgency == "high"`,
	`service == "svc-%[1]d" && any(alerts, .severity == "critical" && .summary contains "OutOfMemoryError")`,
	`incident.title contains "disk" && any(alerts, .details.mount == "/data%[1]d")`,
	`priority in ["P1", "P2"] && incident.service.name startsWith "svc-%[1]d"`,
	`any(alerts, .details.check == "http_5xx_%[1]d") || incident.title matches "(?i)5xx on tier-%[1]d"`,
	`labels.team == "team-%[1]d" && urgency == "high"`,
	`service in ["svc-%[1]d", "svc-%[1]d-canary"] && len(alerts) > 0 && alerts[0].details.host != ""`,
	`incident.escalation_policy.name == "ep-%[1]d" || any(incident.teams, .name == "team-%[1]d")`,
}

func writeBenchRunbooks(b *testing.B, n int) string {
	b.Helper()
	dir := b.TempDir()
	for i := range n {
		rule := fmt.Sprintf(benchRules[i%len(benchRules)], i)
		src := fmt.Sprintf(`name: rb-%04d
owner: sre
order: %d
match: '%s'
targets: {expr: 'hosts_from_alerts(alerts, "host")'}
steps:
  - name: uptime
    run: uptime
  - name: tail
    run: tail -n 200 /var/log/app/{{ service }}.log | grep -c ERROR
  - name: df
    run: df -h {{ params.mount }}
    when: steps.uptime.ok
params:
  mount: /data
`, i, i%7, rule)
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("rb-%04d.yaml", i)), []byte(src), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	return dir
}

func benchEvent() *incident.Event {
	return event(func(i *incident.Incident) {
		i.Service.Summary = "svc-500"
		i.Title = "High p99 latency on checkout"
		i.Labels = map[string]string{"team": "payments"}
		i.Teams = []incident.Ref{{ID: "T1", Summary: "payments"}}
		i.EscalationPolicy = incident.Ref{ID: "EP1", Summary: "payments-primary"}
		i.Alerts = []incident.Alert{
			{ID: "A1", Summary: "p99 > 2s", Severity: "critical", Details: map[string]any{"host": "app-1", "check": "latency", "value": 2.4}},
			{ID: "A2", Summary: "p99 > 2s", Severity: "warning", Details: map[string]any{"host": "app-2", "check": "latency"}},
			{ID: "A3", Summary: "error rate", Severity: "error", Details: map[string]any{"host": "app-3", "mount": "/data"}},
		}
	})
}

// BenchmarkMatch1000 is one incident against 1,000 runbooks. Target: < 200µs on one core.
func BenchmarkMatch1000(b *testing.B) {
	c, err := LoadDir(writeBenchRunbooks(b, 1000), nil)
	if err != nil {
		b.Fatal(err)
	}
	ev := benchEvent()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		c.Match(ev)
	}
}

// BenchmarkLoad1000 is the load (read, decode, compile, check) of 1,000 runbook files.
func BenchmarkLoad1000(b *testing.B) {
	dir := writeBenchRunbooks(b, 1000)
	inv := testInventory(b)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := LoadDir(dir, inv); err != nil {
			b.Fatal(err)
		}
	}
}

// renderRunbook has the placeholder shapes commands have: bare words, inside double quotes,
// concatenated with text, a list, and a restart health check.
const renderRunbook = `
name: render
owner: sre
match: "true"
targets: {expr: 'hosts_from_alerts(alerts, "host")'}
steps:
  - name: tail
    run: tail -n 200 /var/log/app/{{ service }}.log | grep -c -- {{ incident.title }}
  - name: echo
    run: 'printf "%s\n" "Investigating {{ incident.id }}: {{ incident.title }}" > /tmp/alaya-{{ incident.id }}'
  - name: hosts
    run: for h in {{ map(alerts, .details.host) }}; do ping -c1 -- "$h"; done
  - name: gate
    gate: {}
  - name: restart
    restart:
      service: "{{ service }}"
      health_check: curl -fsS http://localhost:8080/health?svc={{ service }}
`

// BenchmarkPlanRender is planning one incident: targets resolved, every template rendered
// for three hosts. Rendering must not parse shell: that is done once at load.
func BenchmarkPlanRender(b *testing.B) {
	inv := testInventory(b)
	rb, err := Parse("render.yaml", []byte(renderRunbook), inv)
	if err != nil {
		b.Fatal(err)
	}
	ev := benchEvent()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := rb.Plan(ev, inv); err != nil {
			b.Fatal(err)
		}
	}
}
