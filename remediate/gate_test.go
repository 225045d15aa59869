package remediate_test

import (
	"cmp"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/alaya-sre/alaya/approval"
	"github.com/alaya-sre/alaya/evidence"
	"github.com/alaya-sre/alaya/executor"
	"github.com/alaya-sre/alaya/incident"
	"github.com/alaya-sre/alaya/internal/testenv/natsserver"
	"github.com/alaya-sre/alaya/inventory"
	"github.com/alaya-sre/alaya/ledger"
	"github.com/alaya-sre/alaya/outbox"
	"github.com/alaya-sre/alaya/remediate"
	"github.com/alaya-sre/alaya/runbooks"
)

const gatedRunbook = `name: gated
owner: sre
match: any(alerts, .details.host != "")
targets:
  expr: hosts_from_alerts(alerts, "host")
steps:
  - name: look
    run: uptime
  - name: approve
    gate: {}
  - name: restart
    restart: {service: demo, command: restart-it, verify_command: check-it}
`

// fakeRunner answers every command with exit 0 and counts them; hook, if set, answers instead.
type fakeRunner struct {
	mu     sync.Mutex
	cmds   []string
	stdout string // what every command prints; "ok\n" when empty
	hook   func(ctx context.Context, host, cmd string) (*executor.Result, error)
}

func (f *fakeRunner) Run(ctx context.Context, h *inventory.Host, cmd string, _ executor.RunOptions) (*executor.Result, error) {
	f.mu.Lock()
	f.cmds = append(f.cmds, cmd)
	hook, stdout := f.hook, f.stdout
	f.mu.Unlock()
	if hook != nil {
		return hook(ctx, h.Name, cmd)
	}
	if stdout != "" {
		return &executor.Result{Stdout: []byte(stdout)}, nil
	}
	return &executor.Result{Stdout: []byte("ok\n")}, nil
}

func (f *fakeRunner) Stream(context.Context, *inventory.Host, string) (io.ReadCloser, func() (*executor.Result, error), error) {
	return io.NopCloser(strings.NewReader("")), func() (*executor.Result, error) { return &executor.Result{}, nil }, nil
}

func (f *fakeRunner) count(cmd string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, c := range f.cmds {
		if c == cmd {
			n++
		}
	}
	return n
}

// fakePD is the incident, its notes and who is on call. Notes posted by people (see
// approve) are what IncidentNotes reads back.
type fakePD struct {
	mu       sync.Mutex
	notes    []string
	resolved map[string]bool
	alerts   []incident.Alert // the incident's alerts; one naming host "here" when nil
	// incidentErr, when set, is what reading the incident answers.
	incidentErr error
}

// posted holds the people's notes by incident, as PagerDuty would list them.
var posted = struct {
	sync.Mutex
	m map[string][]incident.Note
}{m: map[string][]incident.Note{}}

func (f *fakePD) IncidentNotes(_ context.Context, id string) ([]incident.Note, error) {
	posted.Lock()
	defer posted.Unlock()
	return append([]incident.Note(nil), posted.m[id]...), nil
}

func (f *fakePD) resolve(id string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.resolved == nil {
		f.resolved = map[string]bool{}
	}
	f.resolved[id] = true
}

func (f *fakePD) Alerts(context.Context, string) ([]incident.Alert, error) {
	if f.alerts != nil {
		return f.alerts, nil
	}
	return []incident.Alert{{ID: "A1", Details: map[string]any{"host": "here"}}}, nil
}

func (f *fakePD) Incident(_ context.Context, id string) (*incident.Incident, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.incidentErr != nil {
		return nil, f.incidentErr
	}
	status := incident.StatusTriggered
	if f.resolved[id] {
		status = incident.StatusResolved
	}
	return &incident.Incident{ID: id, Status: status, EscalationPolicy: incident.Ref{ID: "PEP1"}}, nil
}

func (f *fakePD) OnCalls(context.Context, string) ([]approval.OnDuty, error) {
	return []approval.OnDuty{{UserID: "PONCALL", Level: 1}}, nil
}

func (f *fakePD) AddNote(_ context.Context, _ string, content string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.notes = append(f.notes, content)
	return "N", nil
}

func (f *fakePD) find(want string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, n := range f.notes {
		if strings.Contains(n, want) {
			return n
		}
	}
	return ""
}

type bed struct {
	safety   *remediate.Safety // nil: no fleet limits
	leases   jetstream.KeyValue
	pd       *fakePD
	runner   *fakeRunner
	runs     jetstream.KeyValue
	switches jetstream.KeyValue
	approv   *approval.Store
	newP     func(owner string) *remediate.Pipeline
	// newPOn is newP with the ledger and outbox on runs, a bucket bound through another NATS
	// connection: closing it is a worker process dying.
	newPOn func(owner string, runs jetstream.KeyValue) *remediate.Pipeline
	url    string // the NATS server
	// redelivery is the pipelines' Deps.Redelivery (nil: no sweep for abandoned runs).
	redelivery func(context.Context) (time.Duration, error)
	store      *faultyStore // the evidence: a real filesystem store that can be made to fail
	// stale is the ledger's stale time (a minute); opts are the pipelines' options.
	stale time.Duration
	opts  remediate.Options
	// ledgerKV and outboxKV, when set, are the buckets the pipelines' ledgers and outboxes
	// write through (faults).
	ledgerKV, outboxKV jetstream.KeyValue
	// chat and slack, when set before newP, give the pipelines a Slack thread.
	chat  *remediate.Chat
	slack *fakeSlack
	// dir and pageKey, when set before newP, are the policy's directory and the key the
	// receiver signs its decisions with.
	dir     approval.Directory
	pageKey []byte
}

func newBed(t *testing.T) *bed { return newBedWith(t, gatedRunbook) }

func newBedWith(t *testing.T, runbook string) *bed { return newBedClock(t, runbook, nil) }

// newBedClock is a bed whose approvals use clock instead of the server's (nil: the server's).
func newBedClock(t *testing.T, runbook string, clock func() time.Time) *bed {
	return newBedInv(t, runbook, "hosts:\n  - name: here\n    transport: local\n", clock)
}

func newBedInv(t *testing.T, runbook, invYAML string, clock func() time.Time) *bed {
	srv := natsserver.Start(t)
	nc, err := nats.Connect(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, _ := jetstream.New(nc)
	ctx := t.Context()
	runs, err := js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: "runs"})
	if err != nil {
		t.Fatal(err)
	}
	leases, err := js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: "leases", TTL: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	switches, err := js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: "switches"})
	if err != nil {
		t.Fatal(err)
	}
	akv, err := js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: "approvals"})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	inv, err := inventory.Parse("inv.yaml", []byte(invYAML))
	if err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Join(dir, "rb"), 0o755)
	os.WriteFile(filepath.Join(dir, "rb", "gated.yaml"), []byte(runbook), 0o644)
	cat, err := runbooks.LoadDir(filepath.Join(dir, "rb"), inv)
	if err != nil {
		t.Fatal(err)
	}
	store, err := evidence.NewFS(filepath.Join(dir, "ev"), "http://127.0.0.1", []byte("0123456789abcdef0123"))
	if err != nil {
		t.Fatal(err)
	}
	b := &bed{pd: &fakePD{}, runner: &fakeRunner{}, runs: runs, leases: leases, switches: switches, approv: approval.NewStore(akv, clock),
		store: &faultyStore{Store: store}}
	b.url = srv.URL()
	b.newP = func(owner string) *remediate.Pipeline { return b.newPOn(owner, runs) }
	b.newPOn = func(owner string, runs jetstream.KeyValue) *remediate.Pipeline {
		m := remediate.NewMetrics(prometheus.NewRegistry())
		log := slog.New(slog.DiscardHandler)
		lkv := jetstream.KeyValue(runs)
		if b.ledgerKV != nil {
			lkv = b.ledgerKV
		}
		okv := jetstream.KeyValue(runs)
		if b.outboxKV != nil {
			okv = b.outboxKV
		}
		p, err := remediate.New(remediate.Deps{
			Logger: log, Metrics: m, Catalog: func() *runbooks.Catalog { return cat }, Inventory: inv,
			Incidents: b.pd, Runner: b.runner, Store: b.store, Ledger: ledger.New(lkv, owner, cmp.Or(b.stale, time.Minute)),
			Outbox: outbox.New(okv, b.pd, log, outbox.NewMetrics(prometheus.NewRegistry())).WithSlack(b.slack), Redactor: evidence.NewRedactor(nil),
			Gates: &remediate.Gates{Store: b.approv, Policy: &approval.Policy{OnCall: b.pd, Self: isBot, Dir: b.dir},
				Incidents: b.pd, Notes: b.pd, PageKey: b.pageKey},
			Safety: b.safety, Redelivery: b.redelivery, Options: b.opts, Chat: b.chat,
		})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	return b
}

func isBot(_ context.Context, id string) bool { return id == "PBOT" }

func triggered(id string) *incident.Event {
	return &incident.Event{ID: "ev-" + id, Type: incident.TypeTriggered, Source: incident.SourcePagerDuty,
		Incident: incident.Incident{ID: id, Status: "triggered", EscalationPolicy: incident.Ref{ID: "PEP1"}}}
}

// approve is the on-call's note approving code on incident id, stored where IncidentNotes
// reads it back, and its incident.annotated event.
func approve(id, code, eventID string) *incident.Event {
	return noteBy(id, "PONCALL", "/alaya approve "+code, eventID)
}

// noteBy posts content as user on incident id and returns its incident.annotated event. The
// same note posted again (a redelivery) is listed once.
func noteBy(id, user, content, eventID string) *incident.Event {
	author := incident.Ref{ID: user, Type: incident.AuthorUser, Summary: user}
	n := incident.Note{ID: "N" + id + user + content, Content: content, Author: author}
	posted.Lock()
	if !slices.Contains(posted.m[id], n) {
		posted.m[id] = append(posted.m[id], n)
	}
	posted.Unlock()
	return &incident.Event{ID: eventID, Type: incident.TypeAnnotated, Source: incident.SourcePagerDuty,
		Agent: author, Incident: incident.Incident{ID: id}, Note: &n}
}

var codeRe = regexp.MustCompile(`/alaya approve ([0-9A-Z]{6})`)

func (b *bed) park(t *testing.T, p *remediate.Pipeline, id string) (code, runID string) {
	if err := p.Handle(t.Context(), triggered(id)); err != nil {
		t.Fatal(err)
	}
	note := b.pd.find("Approval needed")
	m := codeRe.FindStringSubmatch(note)
	if m == nil {
		t.Fatalf("no plan note with a code: %q", b.pd.notes)
	}
	req, _, err := b.approv.Get(t.Context(), id, m[1])
	if err != nil {
		t.Fatal(err)
	}
	return m[1], req.Run
}

// handle runs one event through p and fails the test on an error.
func handle(t *testing.T, p *remediate.Pipeline, ev *incident.Event) {
	t.Helper()
	if err := p.Handle(t.Context(), ev); err != nil {
		t.Fatal(err)
	}
}

func (b *bed) record(t *testing.T, runID string) ledger.Record {
	e, err := b.runs.Get(t.Context(), "run."+runID)
	if err != nil {
		t.Fatal(err)
	}
	var rec ledger.Record
	json.Unmarshal(e.Value(), &rec)
	return rec
}

// A run parks at its gate, a second worker resumes it on approval, and the same approval
// again executes nothing twice.
func TestGateParksAndAnyWorkerResumesOnce(t *testing.T) {
	b := newBed(t)
	code, runID := b.park(t, b.newP("w1"), "PI1")
	if rec := b.record(t, runID); rec.State != ledger.StateParked || rec.NextStep != 2 || rec.Trigger == nil {
		t.Fatalf("after the gate: %+v", rec)
	}
	if b.runner.count("restart-it") != 0 {
		t.Fatal("restart ran before approval")
	}
	other := b.newP("w2")
	handle(t, other, approve("PI1", code, "n1"))
	if rec := b.record(t, runID); rec.State != ledger.StateDone || len(rec.Approvals) != 1 {
		t.Fatalf("after approval: %+v", rec)
	}
	handle(t, other, approve("PI1", code, "n2"))
	if n := b.runner.count("restart-it"); n != 1 {
		t.Fatalf("restart ran %d times, want 1", n)
	}
	if b.pd.find("Nothing was executed again") == "" {
		t.Errorf("the replay is not reported: %q", b.pd.notes)
	}
}

// A worker that died during the restart leaves it started; the redelivered approval makes
// the new owner report the run unknown instead of restarting again.
func TestStartedMutatingStepBecomesUnknown(t *testing.T) {
	b := newBed(t)
	b.stale = 200 * time.Millisecond // liveness is the server's timestamp of the last write
	code, runID := b.park(t, b.newP("w1"), "PI2")
	if _, err := b.approv.Decide(t.Context(), "PI2", code, approval.Decision{State: approval.StateApproved, By: "PONCALL",
		PlanHash: b.record(t, runID).Gate.PlanHash}); err != nil {
		t.Fatal(err)
	}
	rec := b.record(t, runID)
	rec.State, rec.Owner, rec.Heartbeat = ledger.StateRunning, "dead", time.Now().Add(-time.Hour)
	rec.Steps["2/here"] = ledger.Step{Status: "started", Mutating: true, Started: time.Now()}
	data, _ := json.Marshal(rec)
	if _, err := b.runs.Put(t.Context(), "run."+runID, data); err != nil {
		t.Fatal(err)
	}
	handleOnceDead(t, b, b.newP("w2"), approve("PI2", code, "n3"), runID)
	if b.runner.count("restart-it") != 0 {
		t.Fatal("a started restart ran again")
	}
	if got := b.record(t, runID); got.State != ledger.StateUnknown {
		t.Fatalf("state = %s, want unknown", got.State)
	}
	if b.pd.find("state unknown") == "" {
		t.Errorf("unknown not reported: %q", b.pd.notes)
	}
}

// A `when` after a gate can test what a step before the gate printed: the output is read back
// from the evidence when the run continues (the ledger keeps only exit statuses).
func TestWhenAfterGateSeesEarlierOutput(t *testing.T) {
	rb := strings.Replace(gatedRunbook, "    restart: {service: demo", "    when: steps.look.stdout contains \"ok\"\n    restart: {service: demo", 1)
	b := newBedWith(t, rb)
	p := b.newP("w1")
	code, _ := b.park(t, p, "PWHEN1")
	handle(t, b.newP("w2"), approve("PWHEN1", code, "ap-when"))
	if n := b.runner.count("restart-it"); n != 1 {
		t.Errorf("restart ran %d times; its when (on the earlier step's output) should have held; notes: %q", n, b.pd.notes)
	}
}

// A gate with no host left to go on (the diagnostic failed on every target) does not ask a
// person to approve a plan that would run nothing: the run ends, and the note says why.
func TestGateWithNoHostLeftAsksNothing(t *testing.T) {
	b := newBed(t)
	b.runner.hook = func(_ context.Context, _, cmd string) (*executor.Result, error) {
		if cmd == "uptime" {
			return &executor.Result{ExitCode: 1, Stderr: []byte("no route\n")}, nil
		}
		return &executor.Result{Stdout: []byte("ok\n")}, nil
	}
	handle(t, b.newP("w1"), triggered("PI9"))
	if note := b.pd.find("Approval needed"); note != "" {
		t.Fatalf("asked for an approval with no host left:\n%s", note)
	}
	if b.pd.find("no host can go on") == "" {
		t.Errorf("the note does not say why nothing was proposed: %q", b.pd.notes)
	}
	if n := b.runner.count("restart-it"); n != 0 {
		t.Fatalf("restart ran %d times", n)
	}
}

// A handler whose run was taken over while its last step ran (a NATS failover made it look
// dead) tells nothing: the adopter reports the run. Two final notes would contradict each other.
func TestRunTakenOverTellsNoResult(t *testing.T) {
	b := newBed(t)
	p := b.newP("w1")
	code, runID := b.park(t, p, "PI10")
	b.runner.hook = func(ctx context.Context, _, cmd string) (*executor.Result, error) {
		if cmd == "check-it" { // the restart ran; meanwhile another worker adopted the run
			e, err := b.runs.Get(ctx, "run."+runID)
			if err != nil {
				return nil, err
			}
			var rec map[string]any
			json.Unmarshal(e.Value(), &rec)
			rec["owner"], rec["write"] = "w2/adopter", "w2/adopter#1"
			data, _ := json.Marshal(rec)
			if _, err := b.runs.Update(ctx, "run."+runID, data, e.Revision()); err != nil {
				return nil, err
			}
		}
		return &executor.Result{Stdout: []byte("ok\n")}, nil
	}
	notes := len(b.pd.notes)
	p.Handle(t.Context(), approve("PI10", code, "ap-10"))
	p.Outbox.(*outbox.Outbox).Sweep(t.Context()) // what any worker's sweeper would deliver
	for _, n := range b.pd.notes[notes:] {
		if strings.Contains(n, "hosts ok") {
			t.Errorf("the handler that lost its run told a result:\n%s", n)
		}
	}
}
