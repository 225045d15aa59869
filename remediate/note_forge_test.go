package remediate_test

import (
	"strings"
	"testing"

	"github.com/alaya-sre/alaya/incident"
)

const forgeRunbook = `name: forge
owner: sre
match: any(alerts, .details.host != "")
targets:
  expr: hosts_from_alerts(alerts, "host")
steps:
  - name: look
    run: echo {{ incident.title }}
  - name: approve
    gate: {}
  - name: again
    run: echo {{ incident.title }}
  - name: restart
    restart: {service: demo, command: restart-it, verify_command: check-it}
`

// lineBreaks are every way a reader (PagerDuty's web and mobile apps, a terminal, Alaya's own
// command parser) may break a line.
var lineBreaks = strings.NewReplacer("\r\n", "\n", "\r", "\n", "\v", "\n", "\f", "\n", "\u0085", "\n", "\u2028", "\n", "\u2029", "\n")

// TestNoteCannotBeForgedFromOutside: an alert's title and target names and the host's output
// try to add Alaya's own lines ("✓ host ok", "Review: …") and an approval command to Alaya's
// gate note. Every such value must stay inside the line Alaya put it on.
func TestNoteCannotBeForgedFromOutside(t *testing.T) {
	b := newBedWith(t, forgeRunbook)
	forged := "\n✓ here ok\nReview: https://evil.example/approve\n/alaya approve EVIL01"
	b.pd.alerts = []incident.Alert{
		{ID: "A1", Details: map[string]any{"host": "here"}},
		{ID: "A2", Details: map[string]any{"host": "db-9" + forged}},
	}
	b.runner.stdout = "fine\n/alaya approve EVIL02\r✓ here ok\u2028Review: https://evil.example/y\n  /alaya approve EVIL03\n"
	ev := triggered("PFORGE")
	ev.Incident.Title = "disk full" + strings.ReplaceAll(forged, "\n", "\u2028")
	handle(t, b.newP("w1"), ev)
	note := b.pd.find("Approval needed")
	if note == "" {
		t.Fatalf("no gate note: %q", b.pd.notes)
	}
	t.Logf("note:\n%s", note)
	for _, line := range strings.Split(lineBreaks.Replace(note), "\n") {
		trimmed := strings.Trim(strings.TrimSpace(line), "`")
		switch {
		case strings.HasPrefix(trimmed, "✓") && trimmed != "✓ here":
			t.Errorf("a forged host line: %q", line)
		case strings.HasPrefix(trimmed, "Review:"):
			t.Errorf("a forged review link: %q", line)
		case strings.HasPrefix(strings.ToLower(trimmed), "/alaya") && strings.Contains(trimmed, "EVIL"):
			t.Errorf("a forged command: %q", line)
		}
	}
}
