package remediate

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/alaya-sre/alaya/evidence"
	"github.com/alaya-sre/alaya/notetext"
)

// reportName is the per-host report beside the run's manifest: everything that ran on the host,
// in order, as plain text a responder can read on a phone from the note's link.
const reportName = "report.txt"

// writeReports stores one report per host and remembers their keys for the note's links. A run
// resumed after its gate appends the steps it ran to the report written at the gate. A report
// that cannot be stored costs only its link: the per-step objects are still there.
func (p *Pipeline) writeReports(ctx context.Context, run *Run, m *evidence.Manifest) {
	for _, host := range run.hosts() {
		key := p.key(run, "hosts", host, reportName)
		body := p.earlierReport(ctx, run, key) + p.Redactor.String(run.report(host))
		obj, err := p.Store.Put(ctx, key, strings.NewReader(body), evidence.PutOptions{ContentType: "text/plain; charset=utf-8", Size: int64(len(body))})
		if err != nil {
			p.Logger.WarnContext(ctx, "host report not stored", "run", run.ID, "host", host, "err", err)
			continue
		}
		m.Add(obj, "report", host, reportName)
		run.mu.Lock()
		if run.reports == nil {
			run.reports = map[string]string{}
		}
		run.reports[host] = obj.Key
		run.mu.Unlock()
	}
}

// earlierReport is the report written before the run's gate, or "" for a run that has not
// been resumed (or whose earlier report is missing: the new one then starts afresh).
func (p *Pipeline) earlierReport(ctx context.Context, run *Run, key string) string {
	if run.From == 0 {
		return ""
	}
	earlier := p.readText(ctx, key, 8<<20)
	if earlier == "" {
		return ""
	}
	return earlier + "\n(approved; continued)\n"
}

// restoreEarlierOutput reads back from the evidence what the steps seeded from the ledger (before
// the gate, or by an earlier handler of the run) printed,
// so that `when` conditions after the gate can test it (steps.heap_summary.stdout contains
// "..."); the ledger keeps only their exit status.
func (p *Pipeline) restoreEarlierOutput(ctx context.Context, run *Run) {
	run.mu.Lock()
	var earlier []*HostResult
	for _, steps := range run.Results {
		for _, res := range steps {
			if res.Earlier || res.Recorded {
				earlier = append(earlier, res)
			}
		}
	}
	run.mu.Unlock()
	for _, res := range earlier {
		stdout := p.readText(ctx, p.key(run, stepDir(res), res.Host, "stdout"), maxRestored)
		stderr := p.readText(ctx, p.key(run, stepDir(res), res.Host, "stderr"), maxRestored)
		run.mu.Lock()
		res.Stdout, res.Stderr = stdout, stderr
		run.mu.Unlock()
	}
}

// maxRestored caps how much of an earlier step's output is read back: what a step stores is
// already capped by the executor, so this only guards against an unexpected object.
const maxRestored = 4 << 20

// readText reads an evidence object as text, or "" if it is missing or unreadable.
func (p *Pipeline) readText(ctx context.Context, key string, limit int64) string {
	rc, err := p.Store.Get(ctx, key)
	if err != nil {
		return ""
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, limit))
	if err != nil {
		return ""
	}
	return string(b)
}

// hosts are the targets that have results, in plan order.
func (r *Run) hosts() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	if r.Plan != nil {
		for _, h := range r.Plan.Targets {
			if len(r.Results[h]) > 0 {
				out = append(out, h)
			}
		}
	}
	return out
}

// report is the text of one host's report: a header, then every step this process ran there
// (steps carried over from before a gate are in the earlier report).
//
// Alaya's own lines start at the first column ("== step", "$ command", "--- stdout"); a
// command's further lines start with "> ", and everything from the host (output, outcome
// details) is indented, so none of it can pose as a header or a command of the report. Every
// line is escaped as in notes, so carriage returns and terminal escapes cannot rewrite what
// a responder's terminal shows.
func (r *Run) report(host string) string {
	var b bytes.Buffer
	if r.From == 0 {
		b.WriteString(notetext.Sprintf("Alaya run %s · runbook %s (version %s) · incident %s\nHost %s\n",
			r.ID, r.Runbook.Name, r.Runbook.Version, r.Event.Incident.ID, host))
	}
	r.mu.Lock()
	results := make([]*HostResult, 0, len(r.Results[host]))
	for _, res := range r.Results[host] {
		if !res.Earlier {
			results = append(results, res)
		}
	}
	r.mu.Unlock()
	slices.SortFunc(results, func(a, b *HostResult) int { return a.Index - b.Index })
	for _, res := range results {
		writeStep(&b, r, res)
	}
	return b.String()
}

func writeStep(b *bytes.Buffer, r *Run, res *HostResult) {
	status := fmt.Sprintf("exit %d", res.ExitCode)
	switch {
	case res.Skipped != "":
		status = "skipped: " + res.Skipped
	case res.Err != "":
		status = "error: " + res.Err
	}
	took := res.Finished.Sub(res.Started).Round(time.Millisecond)
	b.WriteString(notetext.Sprintf("\n== %s · %s · %s\n", stepDir(res), status, took))
	if r.Plan != nil && res.Index < len(r.Plan.Steps) {
		if cmd := r.Plan.Steps[res.Index].Commands[res.Host]; cmd != "" {
			b.WriteString(notetext.Block("$ ", "> ", cmd))
		}
	}
	if res.Outcome != nil {
		b.WriteString(notetext.Block(outputIndent, outputIndent, res.Outcome.Summary+"\n"+res.Outcome.Detail))
	}
	for _, s := range []struct{ name, text string }{{"stdout", res.Stdout}, {"stderr", res.Stderr}} {
		if strings.TrimSpace(s.text) != "" {
			b.WriteString("--- " + s.name + "\n" + notetext.Block(outputIndent, outputIndent, strings.TrimRight(s.text, "\n")))
		}
	}
}

// outputIndent starts every line from the host in a report.
const outputIndent = "  "
