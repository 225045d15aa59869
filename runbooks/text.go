package runbooks

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/alaya-sre/alaya/incident"
)

// The text form of decisions and plans is what `alaya plan` prints and what `alaya test`
// compares with golden files, so it is stable: hosts and parameters sorted, one fact a line.

// TextOptions tune WriteText.
type TextOptions struct {
	// Stable leaves out the runbook version and the plan hash. Goldens use it so that editing
	// a comment in a runbook does not change every golden of that runbook.
	Stable bool
}

// WriteDecisions prints one line per runbook: whether it matched and why.
func WriteDecisions(w io.Writer, ev *incident.Event, ds []Decision) {
	inc := &ev.Incident
	fmt.Fprintf(w, "incident %s #%d %q\n", inc.ID, inc.Number, inc.Title)
	fmt.Fprintf(w, "  event %s %s, service %q, urgency %s, priority %s, %d alerts\n",
		ev.Type, ev.ID, inc.Service.Summary, or(inc.Urgency, "-"), or(inc.Priority, "-"), len(inc.Alerts))
	for _, d := range ds {
		switch {
		case d.Skipped != "":
			fmt.Fprintf(w, "skip  %s: %s\n", d.Runbook.Name, d.Skipped)
		case d.Matched:
			fmt.Fprintf(w, "MATCH %s: %s\n", d.Runbook.Name, d.Why)
		default:
			fmt.Fprintf(w, "no    %s: %s\n", d.Runbook.Name, d.Why)
		}
	}
}

// WriteText prints a plan for people: targets, refusals, every step with its rendered
// commands, actions and gates.
func (p *Plan) WriteText(w io.Writer, opt TextOptions) {
	if opt.Stable {
		fmt.Fprintf(w, "\nplan %s for %s\n", p.Runbook, p.Incident)
	} else {
		fmt.Fprintf(w, "\nplan %s (version %s) for %s, hash %s\n", p.Runbook, p.Version, p.Incident, p.Hash())
	}
	fmt.Fprintf(w, "  targets: %s\n", or(strings.Join(p.Targets, ", "), "(none)"))
	for _, r := range p.Refused {
		fmt.Fprintf(w, "  refused: %q: %s\n", r.Target, r.Reason)
	}
	for i, s := range p.Steps {
		fmt.Fprintf(w, "  %d. %s\n", i+1, stepHeader(&s))
		writeStepBody(w, &s)
	}
}

func stepHeader(s *Step) string {
	parts := []string{s.Name, s.Kind}
	if s.Gate != nil {
		parts = append(parts, "expires "+shortDuration(s.Gate.Expires), "approvers: "+approversText(s.Gate.Approvers))
		return strings.Join(parts, "  ")
	}
	if s.Mutating {
		parts = append(parts, "CHANGES SYSTEM")
	}
	parts = append(parts, "timeout "+shortDuration(s.Timeout))
	if s.ContinueOnError {
		parts = append(parts, "continue_on_error")
	}
	if s.When != "" {
		parts = append(parts, "when "+s.When)
	}
	return strings.Join(parts, "  ")
}

func writeStepBody(w io.Writer, s *Step) {
	if s.Gate != nil && s.Gate.Message != "" {
		fmt.Fprintf(w, "       %s\n", s.Gate.Message)
	}
	for _, h := range slices.Sorted(maps.Keys(s.Commands)) {
		fmt.Fprintf(w, "       %s$ %s\n", h, s.Commands[h])
	}
	for _, h := range slices.Sorted(maps.Keys(s.Paths)) {
		fmt.Fprintf(w, "       %s: %s\n", h, strings.Join(s.Paths[h], " "))
	}
	for _, h := range slices.Sorted(maps.Keys(s.Action)) {
		var kv []string
		for _, k := range slices.Sorted(maps.Keys(s.Action[h])) {
			kv = append(kv, fmt.Sprintf("%s=%q", k, s.Action[h][k]))
		}
		fmt.Fprintf(w, "       %s: %s\n", h, strings.Join(kv, " "))
	}
}

func approversText(a Approvers) string {
	var parts []string
	if len(a.Users) > 0 {
		parts = append(parts, "users "+strings.Join(a.Users, ", "))
	}
	if len(a.Teams) > 0 {
		parts = append(parts, "teams "+strings.Join(a.Teams, ", "))
	}
	if len(parts) == 0 {
		return "on call or assignee"
	}
	return strings.Join(parts, "; ")
}

// shortDuration prints 30s, 5m, 1h30m rather than 5m0s.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
