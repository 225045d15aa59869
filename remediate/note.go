package remediate

import (
	"context"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/alaya-sre/alaya/actions"
	"github.com/alaya-sre/alaya/ledger"
	"github.com/alaya-sre/alaya/notetext"
	"github.com/alaya-sre/alaya/runbooks"
)

// MaxNote is PagerDuty's limit on a note's content.
const MaxNote = 65535

const (
	maxLineRunes     = 160 // a line of output on a phone
	defaultReportLen = 3   // telling lines per step when the runbook does not say
)

// renderNote writes the note a responder reads on a phone: a status line, why the runbook
// matched, one line per host, the most telling output lines, and links to the evidence.
// Everything but the links is redacted; links are appended afterwards because a presigned
// URL carries a (short-lived, scoped) credential by design.
// extra (the plan of a gate) goes after the hosts, before the links.
//
// Every line is written with printf, which keeps each value (target names and titles from
// alerts, host output, errors) on the line it is put on: nothing from outside can add a line
// that looks like Alaya's ("✓ host ok", "Review: …") or like a command to Alaya.
func (p *Pipeline) renderNote(ctx context.Context, run *Run, extra string) string {
	var b strings.Builder
	printf(&b, "Alaya · %s (%s) · %s\n", run.Runbook.Name, run.Runbook.Version, run.statusLine())
	p.renderWhy(&b, run.Decision)
	if run.Failure != "" {
		printf(&b, "⚠ %s\n", run.Failure)
	}
	for _, w := range run.warnings() {
		printf(&b, "⚠ %s\n", w)
	}
	if run.Plan != nil {
		for _, r := range run.Plan.Refused {
			printf(&b, "✗ %s refused: %s\n", r.Target, r.Reason)
		}
		for _, host := range run.Plan.Targets {
			p.renderHost(&b, run, host)
		}
	}
	for _, o := range actions.StillDetached(run.outcomes()) {
		printf(&b, "%s\n", actions.DetachedLine(o))
	}
	b.WriteString(extra)
	body := p.reportLinks(ctx, run, p.Redactor.String(b.String()))
	link := p.link(ctx, run.ManifestKey)
	tail := "Run " + run.ID
	if link != "" {
		tail = "Evidence: " + link + "\n" + tail
	}
	return cutNote(body, tail, link)
}

func (r *Run) statusLine() string {
	if r.Plan == nil || r.Failure != "" && len(r.Results) == 0 {
		return "not run"
	}
	failed := r.failedHosts()
	if r.Failure != "" && r.unfinished() {
		// Stopped part way (kill switch, storm, deadline, a gate that ended): no host got
		// the whole plan, so none is called ok; the failure line says why.
		if failed == 0 {
			return "stopped before the end of the plan"
		}
		return fmt.Sprintf("stopped before the end of the plan · %d/%d hosts failed", failed, len(r.Plan.Targets))
	}
	return fmt.Sprintf("%d/%d hosts ok", len(r.Plan.Targets)-failed, len(r.Plan.Targets))
}

// notRun lists the plan's steps (gates aside) that have no result on host.
func (r *Run) notRun(host string) []string {
	var names []string
	for _, step := range r.Plan.Steps {
		if step.Kind != runbooks.KindGate && r.result(host, step.Name) == nil {
			names = append(names, step.Name)
		}
	}
	return names
}

// unfinished reports whether some target is missing a step of the plan.
func (r *Run) unfinished() bool {
	for _, host := range r.Plan.Targets {
		if len(r.notRun(host)) > 0 {
			return true
		}
	}
	return false
}

// renderHost writes "✓ host" with each step's telling lines beneath it.
func (p *Pipeline) renderHost(b *strings.Builder, run *Run, host string) {
	mark := "✓"
	var lines []string
	for _, step := range run.Plan.Steps {
		res := run.result(host, step.Name)
		if res == nil {
			continue
		}
		if res.Earlier {
			if !res.OK() && res.Skipped == "" {
				mark = "✗" // reported at the gate, but the host did not get what the plan said
			}
			continue
		}
		switch {
		case res.Outcome != nil && res.Skipped == "":
			if !res.Outcome.OK {
				mark = "✗"
			}
			lines = append(lines, notetext.Sprintf("  %s: %s", step.Name, clip(res.Outcome.Summary)))
		case res.Skipped != "":
			if res.Blocked {
				mark = "✗" // the host did not get what the plan said
			}
			lines = append(lines, notetext.Sprintf("  %s: skipped (%s)", step.Name, res.Skipped))
		case res.Err != "":
			mark = "✗"
			lines = append(lines, notetext.Sprintf("  %s: %s", step.Name, clip(firstLine(res.Err))))
		default:
			if res.ExitCode != 0 {
				mark = "✗"
			}
			lines = append(lines, tellingLines(step, res)...)
		}
	}
	if missing := run.notRun(host); run.Failure != "" && len(missing) > 0 {
		if mark == "✓" {
			mark = "–" // nothing failed, but the host did not get the whole plan
		}
		lines = append(lines, notetext.Sprintf("  not run: %s (the run stopped)", strings.Join(missing, ", ")))
	}
	printf(b, "%s %s\n", mark, host)
	for _, l := range lines {
		b.WriteString(l + "\n")
	}
	b.WriteString(reportToken(host) + "\n")
}

// reportToken marks where a host's report link goes. Links are put in after redaction (a
// presigned URL carries a scoped credential by design), so the note holds this token until then.
func reportToken(host string) string { return "\x1dreport:" + host + "\x1d" }

// reportLinks replaces each host's token with "  full output: <link>", or drops the line when
// the host has no stored report.
func (p *Pipeline) reportLinks(ctx context.Context, run *Run, body string) string {
	run.mu.Lock()
	reports := maps.Clone(run.reports)
	run.mu.Unlock()
	var out strings.Builder
	for _, line := range strings.SplitAfter(body, "\n") {
		host, ok := strings.CutPrefix(strings.TrimSuffix(line, "\n"), "\x1dreport:")
		if !ok {
			out.WriteString(line)
			continue
		}
		if link := p.link(ctx, reports[strings.TrimSuffix(host, "\x1d")]); link != "" {
			out.WriteString("  full output: " + link + "\n")
		}
	}
	return out.String()
}

// tellingLines picks what a responder most needs from a step's output: the lines matching
// the runbook's report pattern if it has one, otherwise the last lines (logs end with news).
// Output lines after the first are marked with outputMark, never blank: indentation alone
// would let a printed "/alaya approve CODE" read as a command in Alaya's own note.
func tellingLines(step runbooks.Step, res *HostResult) []string {
	n := step.Report.Lines
	if n == 0 {
		n = defaultReportLen
	}
	out := nonEmptyLines(res.Stdout)
	if res.ExitCode != 0 && strings.TrimSpace(res.Stderr) != "" {
		out = nonEmptyLines(res.Stderr)
	}
	if step.Report.Match != "" {
		if re, err := regexp.Compile(step.Report.Match); err == nil {
			out = slices.DeleteFunc(out, func(l string) bool { return !re.MatchString(l) })
		}
	}
	if len(out) > n {
		out = out[len(out)-n:]
	}
	label := step.Name
	if step.Report.Label != "" {
		label = step.Report.Label
	}
	prefix := notetext.Sprintf("  %s: ", label)
	if res.ExitCode != 0 {
		prefix = notetext.Sprintf("  %s (exit %d): ", label, res.ExitCode)
	}
	if len(out) == 0 {
		return []string{prefix + "(no output)"}
	}
	lines := make([]string, len(out))
	for i, l := range out {
		lines[i] = prefix + clip(notetext.Inline(l))
		prefix = strings.Repeat(" ", max(utf8.RuneCountInString(prefix)-2, 2)) + outputMark
	}
	return lines
}

// outputMark starts every line of host output after the first in a note.
const outputMark = "│ "

// printf writes one or more lines of Alaya's, each argument kept on its line (notetext.Sprintf).
func printf(b *strings.Builder, format string, args ...any) {
	b.WriteString(notetext.Sprintf(format, args...))
}

func nonEmptyLines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.TrimSpace(l) != "" {
			out = append(out, strings.TrimRight(l, " \r\t"))
		}
	}
	return out
}

func clip(s string) string {
	if utf8.RuneCountInString(s) <= maxLineRunes {
		return s
	}
	r := []rune(s)
	return string(r[:maxLineRunes-1]) + "…"
}

// renderWhy writes why the runbook matched: on one line when it fits, otherwise one clause
// a line, so a long rule is broken between its sub-expressions, never inside one. Each is
// redacted before it is clipped.
func (p *Pipeline) renderWhy(b *strings.Builder, d runbooks.Decision) {
	if d.Why == "" {
		return
	}
	why := oneLine(p.Redactor.String(d.Why))
	if utf8.RuneCountInString(why) < maxLineRunes || len(d.Clauses) < 2 {
		printf(b, "Matched: %s\n", why)
		return
	}
	b.WriteString("Matched, all of:\n")
	for _, c := range d.Clauses {
		printf(b, "  · %s\n", oneLine(p.Redactor.String(c)))
	}
}

// oneLine is s on one line: runs of white space (line breaks among them) become one space,
// and what else could break or hide part of the line is escaped.
func oneLine(s string) string { return clip(notetext.Inline(strings.Join(strings.Fields(s), " "))) }

// cutNote joins body and tail within PagerDuty's limit. When the body is too long it is cut
// at a rune boundary and says so; the tail (links, run id) is always kept whole.
func cutNote(body, tail, link string) string {
	if len(body)+len(tail) <= MaxNote {
		return body + tail
	}
	marker := "\n… cut to fit PagerDuty's note limit; the full output is in the evidence\n"
	cut := max(MaxNote-len(tail)-len(marker), 0)
	for cut > 0 && !utf8.RuneStart(body[cut]) {
		cut--
	}
	return body[:cut] + marker + tail
}

func (p *Pipeline) link(ctx context.Context, key string) string {
	if key == "" {
		return ""
	}
	u, err := p.Store.Link(ctx, key, p.Options.LinkTTL)
	if err != nil {
		p.Logger.WarnContext(ctx, "no evidence link", "key", key, "err", err)
		return ""
	}
	return u
}

// annotate puts the note in the outbox (durably) and marks the run finished in the same
// breath, then tries to deliver the note at once. A note that cannot be posted now stays in
// the outbox and is retried by the sweeper; it is never lost and never blocks the queue.
func (p *Pipeline) annotate(ctx context.Context, run *Run) error {
	// Still ours? A handler whose run was adopted meanwhile (NATS made it look dead) must not
	// queue a result: the adopter reports the run, and the queued note would be delivered by
	// any sweeper even though the ledger write after it fails. The check is a write, so it is
	// the ledger's compare-and-swap that answers.
	if err := run.Ledger.Update(ctx, func(*ledger.Record) {}); err != nil {
		return classify(err)
	}
	content := p.renderNote(ctx, run, "")
	if err := p.Outbox.Enqueue(ctx, run.ID, run.Event.Incident.ID, content); err != nil {
		return classify(err)
	}
	state := ledger.StateDone
	if run.Failure != "" && len(run.Results) == 0 {
		state = ledger.StateFailed
	}
	if run.unknown() {
		state = ledger.StateUnknown
	}
	if err := run.Ledger.Update(ctx, func(r *ledger.Record) { r.State, r.Noted, r.Reason = state, true, run.Failure }); err != nil {
		return classify(err)
	}
	if err := p.Outbox.Deliver(ctx, run.ID); err != nil {
		p.Logger.WarnContext(ctx, "note not posted yet; the outbox will retry", "run", run.ID, "err", err)
	}
	p.threadReply(ctx, run.ID, run.Event.Incident.ID, "result", content, nil)
	p.threadTop(ctx, run, finalState(run))
	return nil
}
