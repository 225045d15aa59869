package runbooks

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/alaya-sre/alaya/inventory"
)

func testInventory(t testing.TB) *inventory.Inventory {
	t.Helper()
	inv, err := inventory.Load("testdata/inventory.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return inv
}

// TestLoadBad keeps every load error's position and words stable: they are what an SRE reads.
func TestLoadBad(t *testing.T) {
	inv := testInventory(t)
	tests := []struct {
		file string
		want []string
	}{
		{"actions", []string{
			"actions.yaml:7:21: expires must not be negative",
			"actions.yaml:9:27: provider \"nginx\": expected haproxy or elbv2",
			"actions.yaml:11:45: lb_host \"lb-9\" is not a host of the inventory testdata/inventory.yaml",
			"actions.yaml:13:38: path \"relative.hprof\": expected an absolute path",
			"actions.yaml:13:64: max_size \"lots\": expected a size such as 512MiB or 8GiB",
			"actions.yaml:15:14: restart: missing service (the unit to restart)",
			"actions.yaml:18:21: report.match: error parsing regexp: missing closing ): `(unclosed`",
		}},
		{"bad_duration", []string{
			"bad_duration.yaml:8:14: expected a duration such as 30s or 5m, found str \"5 minutes\"",
		}},
		{"dup_step", []string{
			"dup_step.yaml:8:11: duplicate step name \"uptime\" (first at line 6)",
		}},
		{"expr_field", []string{
			"expr_field.yaml:5:14: unknown field \"titel\" (expected one of: assignees, created_at, escalation_policy, html_url, id, key, labels, number, priority, service, status, teams, title, urgency)",
		}},
		{"expr_type", []string{
			"expr_type.yaml:3:24: invalid operation: + (mismatched types int and string)",
		}},
		{"gate_after", []string{
			"gate_after.yaml:8:5: step \"restart\" (restart) changes a system but no gate comes before it; gate \"approve\" (line 10) comes after it: move the gate before the steps it should guard",
			"gate_after.yaml:10:5: gate \"approve\" guards nothing: no step after it changes a system",
		}},
		{"gate_nothing", []string{
			"gate_nothing.yaml:6:5: gate \"approve\" guards nothing: no step after it changes a system",
		}},
		{"labels_none", []string{
			"labels_none.yaml:4:19: targets.labels role=cache select no host of the inventory testdata/inventory.yaml",
		}},
		{"missing", []string{
			"missing.yaml:1:1: missing name: every runbook needs a unique name",
			"missing.yaml:1:1: missing owner: say which team maintains this runbook",
			"missing.yaml:1:1: missing steps: a runbook needs at least one step",
			"missing.yaml:1:1: missing match: a rule such as service == \"checkout\"",
			"missing.yaml:1:1: missing targets: give targets.expr (host names from the incident) or targets.labels (inventory labels), or both",
		}},
		{"not_bool", []string{
			"not_bool.yaml:3:8: expected true or false, but the expression gives a string",
		}},
		{"params", []string{
			"params.yaml:3:26: unknown parameter \"servce\" (defined: service)",
			"params.yaml:6:3: parameter name \"bad-name\": expected letters, digits and _ (it is used as params.bad-name)",
			"params.yaml:7:11: parameter nested: expected a string, number, true/false or a list of strings, found map[string]interface {}",
		}},
		{"slack", []string{
			"slack.yaml:6:12: slack channel \"Payments Team\": expected a channel id such as C0123ABCD (a name can change; the id cannot)",
			"slack.yaml:7:20: slack.mention_groups \"sre-oncall\": expected a user group id such as S0123ABCD",
			"slack.yaml:9:24: slack.approvers.users \"alice@example.com\": expected a Slack user id such as U0123ABCD",
		}},
		{"targets_static", []string{
			"targets_static.yaml:4:17: target \"app-9\" is not a host of the inventory testdata/inventory.yaml",
		}},
		{"targets_type", []string{
			"targets_type.yaml:5:9: targets.expr gives a number: expected a host name (string) or a list of host names",
		}},
		{"shell", []string{
			`shell.yaml:7:32: {{ incident.title }} inside single quotes, where the shell would not expand it; write it outside the quotes: echo 'Investigating: '{{ incident.title }}`,
			`shell.yaml:12:7: {{ incident.title }} inside a here-document, whose text Alaya cannot quote; pass the value as an argument instead, e.g. printf '%s\n' {{ value }} | command`,
			`shell.yaml:14:19: {{ params.log }} as an argument of sh, which runs its first operand (the -c command or a script) as shell code; pass the value as data instead: as an argument after the code (sh -c 'echo "$1"' sh {{ value }}) or on standard input`,
			`shell.yaml:20:26: {{ host.name }} as an argument of ssh, which joins its arguments into a command that the remote shell parses again; Alaya already runs the command on every target: name the host in the runbook's targets and run the command there`,
		}},
		{"template", []string{
			"template.yaml:7:47: unknown field \"nmae\" (expected one of: address, bastion, labels, name, port, user)",
			"template.yaml:11:31: unknown parameter \"log\" (this runbook defines no params)",
			"template.yaml:13:15: \"{{\" without a closing \"}}\"",
		}},
		{"two_kinds", []string{
			"two_kinds.yaml:6:5: step \"both\": has run and collect: a step does exactly one thing",
			"two_kinds.yaml:9:5: step \"neither\": missing its kind: expected one of run, collect, gate, restart, lb_detach, lb_attach, heap_dump",
			"two_kinds.yaml:11:5: step \"reboot\": missing its kind: expected one of run, collect, gate, restart, lb_detach, lb_attach, heap_dump",
			"two_kinds.yaml:12:5: unknown key \"reboot\"",
		}},
		{"unknown_key", []string{
			"unknown_key.yaml:2:1: unknown key \"descripton\"",
		}},
		{"when_step", []string{
			"when_step.yaml:8:17: when refers to step \"later\", which is not an earlier step (there are no earlier steps)",
			"when_step.yaml:11:17: when refers to step \"chek\", which is not an earlier step (earlier: check)",
		}},
		{"yaml_syntax", []string{
			"yaml_syntax.yaml:5: did not find expected ',' or ']'",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			_, err := LoadFiles(inv, filepath.Join("testdata", "bad", tt.file+".yaml"))
			if err == nil {
				t.Fatal("loaded without error")
			}
			got := strings.Split(strings.ReplaceAll(err.Error(), "testdata/bad/", ""), "\n")
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestLoadBadCoversEveryFixture(t *testing.T) {
	files, _ := filepath.Glob("testdata/bad/*.yaml")
	if len(files) < 18 {
		t.Errorf("only %d bad fixtures", len(files))
	}
}

func TestLoadGood(t *testing.T) {
	c, err := LoadDir("testdata/good", testInventory(t))
	if err != nil {
		t.Fatal(err)
	}
	rb := c.Runbook("jvm-heap")
	if rb == nil {
		t.Fatal("jvm-heap not loaded")
	}
	if len(rb.Version) != 12 || rb.Owner != "team-checkout" || !rb.Mutating() {
		t.Errorf("runbook = %+v", rb)
	}
	want := Limits{MaxTargets: 2, Concurrency: 1, Cooldown: 30 * 60e9}
	if rb.Limits != want {
		t.Errorf("limits = %+v, want %+v", rb.Limits, want)
	}
}

func TestLoadWithoutInventorySkipsInventoryChecks(t *testing.T) {
	for _, f := range []string{"targets_static", "labels_none"} {
		if _, err := LoadFiles(nil, filepath.Join("testdata", "bad", f+".yaml")); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}

func TestLoadDuplicateNames(t *testing.T) {
	_, err := LoadFiles(nil, "testdata/good/jvm.yaml", "testdata/dup/jvm-again.yaml")
	want := `testdata/dup/jvm-again.yaml:1:1: duplicate runbook name "jvm-heap" (also in testdata/good/jvm.yaml:2:1)`
	if err == nil || err.Error() != want {
		t.Errorf("err = %v, want %s", err, want)
	}
}
