package remediate

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/alaya-sre/alaya/evidence"
	"github.com/alaya-sre/alaya/executor"
	"github.com/alaya-sre/alaya/inventory"
	"github.com/alaya-sre/alaya/runbooks"
)

// stepDir names a step's evidence folder with its position, so folders sort in run order.
func stepDir(res *HostResult) string { return fmt.Sprintf("%02d-%s", res.Index+1, res.Step) }

func (p *Pipeline) key(run *Run, parts ...string) string {
	return evidence.Key(append([]string{"incidents", run.Event.Incident.ID, run.ID}, parts...)...)
}

// put stores one object and remembers it for the manifest. Evidence that cannot be stored is
// noted on the result beside its outcome, never as the step's failure: what happened on the
// host happened, and the later steps depend on that, not on the store.
func (p *Pipeline) put(ctx context.Context, run *Run, res *HostResult, name, contentType string, body []byte) {
	key := p.key(run, stepDir(res), res.Host, name)
	obj, err := p.Store.Put(ctx, key, bytes.NewReader(body), evidence.PutOptions{ContentType: contentType, Size: int64(len(body))})
	if err != nil {
		p.Logger.WarnContext(ctx, "evidence not stored", "run", run.ID, "key", key, "err", err)
		res.EvidenceErr = strings.TrimPrefix(res.EvidenceErr+"; ", "; ") + name + " not stored: " + p.Redactor.String(err.Error())
		return
	}
	res.Objects = append(res.Objects, obj)
}

// resultFile is result.json: what ran, how it ended, when.
type resultFile struct {
	Host            string    `json:"host"`
	Step            string    `json:"step"`
	Command         string    `json:"command,omitempty"`
	ExitCode        int       `json:"exit_code"`
	Error           string    `json:"error,omitempty"`
	Started         time.Time `json:"started"`
	Finished        time.Time `json:"finished"`
	StdoutTruncated bool      `json:"stdout_truncated,omitempty"`
	StderrTruncated bool      `json:"stderr_truncated,omitempty"`
}

func (p *Pipeline) storeOutputs(ctx context.Context, run *Run, step *runbooks.Step, res *HostResult, out *executor.Result) {
	p.put(ctx, run, res, "stdout", "text/plain; charset=utf-8", []byte(res.Stdout))
	p.put(ctx, run, res, "stderr", "text/plain; charset=utf-8", []byte(res.Stderr))
	rf := resultFile{Host: res.Host, Step: res.Step, Command: p.Redactor.String(step.Commands[res.Host]),
		ExitCode: res.ExitCode, Error: res.Err, Started: res.Started, Finished: time.Now()}
	if out != nil {
		rf.StdoutTruncated, rf.StderrTruncated = out.StdoutTruncated, out.StderrTruncated
	}
	data, _ := json.MarshalIndent(rf, "", "  ")
	p.put(ctx, run, res, "result.json", "application/json", data)
}

// collect copies files from the host into evidence, streaming each through the executor
// into the store, redacted on the way.
func (p *Pipeline) collect(ctx context.Context, run *Run, step *runbooks.Step, host *inventory.Host, res *HostResult) {
	for _, file := range step.Paths[host.Name] {
		if err := p.collectOne(ctx, run, res, host, file, step.Timeout); err != nil {
			res.Err = strings.TrimSpace(res.Err + "; " + p.Redactor.String(err.Error()))
			res.ExitCode = 1
		}
	}
}

func (p *Pipeline) collectOne(ctx context.Context, run *Run, res *HostResult, host *inventory.Host, file string, timeout time.Duration) error {
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	stdout, wait, err := p.Runner.Stream(ctx, host, "cat -- "+runbooks.Quote(file))
	if err != nil {
		return fmt.Errorf("collect %s: %w", file, err)
	}
	key := p.key(run, stepDir(res), res.Host, "files", path.Base(file))
	obj, putErr := p.Store.Put(ctx, key, p.Redactor.Reader(stdout), evidence.PutOptions{ContentType: "text/plain; charset=utf-8", Size: -1})
	stdout.Close()
	out, waitErr := wait()
	switch {
	case putErr != nil:
		return fmt.Errorf("collect %s: %w", file, putErr)
	case waitErr != nil:
		return fmt.Errorf("collect %s: %w", file, waitErr)
	case out != nil && out.ExitCode != 0:
		return fmt.Errorf("collect %s: %s", file, firstLine(string(out.Stderr)))
	}
	res.Objects = append(res.Objects, obj)
	return nil
}

// record writes the run's manifest: every object with its SHA-256, the runbook version, and
// (for runs with gates) who approved what.
func (p *Pipeline) record(ctx context.Context, run *Run) error {
	m := run.Manifest // a resumed run continues the manifest written at its gate
	if m == nil && run.Resumed {
		if earlier, err := evidence.ReadManifest(ctx, p.Store, run.Event.Incident.ID, run.ID); err == nil {
			m = earlier
		}
	}
	if m == nil {
		m = &evidence.Manifest{
			Incident: run.Event.Incident.ID, Run: run.ID, Runbook: run.Runbook.Name,
			RunbookVersion: run.Runbook.Version, Created: run.Started,
		}
	}
	m.Actions = append(m.Actions, run.actionRecords()...)
	if run.Ledger != nil {
		m.Approvals = run.Ledger.Record().Approvals
	}
	run.mu.Lock()
	for host, steps := range run.Results {
		for _, res := range steps {
			for _, o := range res.Objects {
				m.Add(o, res.Step, host, path.Base(o.Key))
			}
		}
	}
	run.mu.Unlock()
	p.writeReports(ctx, run, m)
	obj, err := p.writeManifest(ctx, m)
	run.Manifest = m
	if err != nil {
		// The run still ends with its note, which says the evidence is missing: retrying the
		// event would only run it again, and an evidence outage must not silence a run.
		p.Logger.ErrorContext(ctx, "manifest not stored; the note says evidence is missing", "run", run.ID, "err", err)
		run.EvidenceMissing = "the manifest could not be stored (" + p.Redactor.String(err.Error()) + ")"
		return nil
	}
	run.ManifestKey = obj.Key
	return nil
}

// manifestTries bounds the attempts at storing a manifest through a transient store failure.
const manifestTries = 3

// writeManifest stores m, trying a transient failure again a few times (bounded by ctx).
func (p *Pipeline) writeManifest(ctx context.Context, m *evidence.Manifest) (evidence.Object, error) {
	wait := 500 * time.Millisecond
	for try := 1; ; try++ {
		obj, err := evidence.WriteManifest(ctx, p.Store, m)
		if err == nil || try == manifestTries || !evidence.Retryable(err) {
			return obj, err
		}
		select {
		case <-ctx.Done():
			return obj, err
		case <-time.After(wait):
		}
		wait *= 4
	}
}
