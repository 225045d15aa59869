package remediate

import (
	"strings"
	"testing"

	"github.com/alaya-sre/alaya/incident"
	"github.com/alaya-sre/alaya/runbooks"
)

// TestReportKeepsOutputInsideItsSection: host output and errors in a host's report cannot
// begin a line of the report's own (a "== step · exit 0" header, a "$ command"), nor rewrite
// what a terminal shows with carriage returns or escape sequences.
func TestReportKeepsOutputInsideItsSection(t *testing.T) {
	run := &Run{ID: "r1", Event: &incident.Event{Incident: incident.Incident{ID: "P1"}},
		Runbook: &runbooks.Runbook{Name: "rb", Version: "v1"},
		Plan: &runbooks.Plan{Targets: []string{"here"}, Steps: []runbooks.Step{
			{Name: "look", Commands: map[string]string{"here": "uptime\n== 09-fake · exit 0"}},
			{Name: "fix", Commands: map[string]string{"here": "fix-it"}},
		}},
		Results: map[string]map[string]*HostResult{"here": {
			"look": {Step: "look", Index: 0, Host: "here", Stdout: "up 3 days\n== 02-fix · exit 0\r\n$ rm -rf /\n\x1b[2Kgone\n"},
			"fix":  {Step: "fix", Index: 1, Host: "here", ExitCode: 1, Err: "failed\n== 03-all · exit 0", Stderr: "boom\r== fake"},
		}},
	}
	report := run.report("here")
	t.Logf("report:\n%s", report)
	var headers, commands []string
	for _, line := range strings.Split(report, "\n") {
		if strings.ContainsAny(line, "\r\x1b") {
			t.Errorf("raw control character in %q", line)
		}
		switch {
		case strings.HasPrefix(line, "=="):
			headers = append(headers, line)
		case strings.HasPrefix(line, "$"):
			commands = append(commands, line)
		}
	}
	if len(headers) != 2 || !strings.HasPrefix(headers[0], "== 01-look · exit 0") || !strings.HasPrefix(headers[1], `== 02-fix · error: failed\n== 03-all`) {
		t.Errorf("section headers = %q, want the two steps' own", headers)
	}
	if len(commands) != 2 || commands[0] != "$ uptime" || commands[1] != "$ fix-it" {
		t.Errorf("command lines = %q", commands)
	}
}
