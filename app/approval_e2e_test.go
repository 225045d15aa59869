package app_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/alaya-sre/alaya/evidence"
	"github.com/alaya-sre/alaya/incident"
	thaproxy "github.com/alaya-sre/alaya/internal/testenv/haproxy"
	"github.com/alaya-sre/alaya/internal/testenv/jvm"
	"github.com/alaya-sre/alaya/internal/testenv/sshbed"
	"github.com/alaya-sre/alaya/ledger"
	"github.com/alaya-sre/alaya/pagerduty"
	"github.com/alaya-sre/alaya/queue"
)

// fixRunbook is the whole remedy: diagnose, gate, heap dump, detach from HAProxy, restart,
// attach. The restart waits for the test's go-ahead file, so the test can look at HAProxy
// while the host is out of rotation; it counts restarts in a file.
const fixRunbook = `name: fix-CASE
owner: sre
match: any(alerts, .details.case == "CASE")
targets:
  expr: hosts_from_alerts(alerts, "host")
steps:
  - name: look
    run: uptime
  - name: approve
    gate:
      expires: EXPIRES
  - name: dump
    heap_dump: {process: "MARKER"}
  - name: detach
    lb_detach: {provider: haproxy, lb_host: target-1, socket: "SOCKET", backend: app, server: app-1, min_healthy: MINHEALTHY, wait: 10s}
  - name: restart
    restart:
      service: demo
      command: while [ ! -e DIR/go ]; do sleep 0.05; done; echo restarted >> DIR/restarts
      verify_command: test -s DIR/restarts
  - name: attach
    lb_attach: {provider: haproxy, lb_host: target-1, socket: "SOCKET", backend: app, server: app-1, wait: 10s}
`

// approvalBed is the harness plus what the actions act on: a real JVM on the target (behind
// the bastion) and a real HAProxy whose runtime socket is reached through the bastion too.
type approvalBed struct {
	*harness
	proxy *thaproxy.Proxy
	jvm   *jvm.JVM
	dir   string // restart's go-ahead and counter files
}

func newApprovalBed(t *testing.T) *approvalBed {
	ab := &approvalBed{dir: restartDir(t)}
	var cases = map[string]string{"fix": "10m", "guard": "10m", "expiry": "1s", "changed": "10m"}
	ab.harness = newHarness(t, func(dir string, env map[string]string) {
		os.Remove(filepath.Join(dir, "runbooks", "diag.yaml"))
		env["ALAYA_WORKER_GATE_SWEEP"] = "100ms"
		env["ALAYA_RECEIVER_PUBLIC_URL"] = "https://alaya.example.test"
		// Created here, before the worker starts, because the runbooks name their socket
		// and marker.
		ab.proxy = thaproxy.Start(t, 2, thaproxy.SocketUser(sshbed.TargetUser))
		for name, expires := range cases {
			writeFile(t, filepath.Join(dir, "runbooks", name+".yaml"), ab.runbook(name, expires, "MARKER-PENDING"))
		}
	})
	ab.jvm = jvm.Start(t, jvm.Options{User: sshbed.TargetUser, Netns: ab.bed.Target().Namespace})
	for name, expires := range cases {
		writeFile(t, filepath.Join(ab.harness.dir, "runbooks", name+".yaml"), ab.runbook(name, expires, ab.jvm.Marker))
	}
	ab.restartWorker() // read the runbooks with the JVM's marker
	ab.pd.AddUser("PNOTON1", "Sam Bystander", "sam@example.com")
	ab.pd.SetOnCall("PEP0001", "PONCALL")
	ab.pd.Subscribe(ab.receiver+"/v1/webhooks/pagerduty", webhookSecret)
	return ab
}

func (ab *approvalBed) runbook(name, expires, marker string) string {
	minHealthy := "1"
	if name == "guard" {
		minHealthy = "2" // two servers: detaching one would leave one
	}
	return strings.NewReplacer("CASE", name, "EXPIRES", expires, "MARKER", marker, "SOCKET", ab.proxy.Socket,
		"MINHEALTHY", minHealthy, "DIR", ab.dir).Replace(fixRunbook)
}

// trigger opens an incident whose alert names target-1 and selects the runbook for c. Nobody
// is assigned: approval rests on the on-call lookup.
func (ab *approvalBed) trigger(id, c string) {
	ab.pd.Trigger(incident.Incident{
		ID: id, Title: "checkout sick on target-1", Status: incident.StatusTriggered, Urgency: "high",
		Service:          incident.Ref{ID: "PSVC001", Summary: "checkout"},
		EscalationPolicy: incident.Ref{ID: "PEP0001", Summary: "Checkout on-call"},
		Alerts: []incident.Alert{{ID: "A" + id, Summary: "checkout sick", Status: "triggered",
			Details: map[string]any{"host": "target-1", "case": c}}},
	})
}

var codeRe = regexp.MustCompile(`/alaya approve ([0-9A-Z]{6})`)

// gate waits for the plan note and returns it with its code.
func (ab *approvalBed) gate(ctx context.Context, t testing.TB, id string) (string, string) {
	t.Helper()
	note := ab.waitNote(ctx, t, id, "Approval needed")
	m := codeRe.FindStringSubmatch(note)
	if m == nil {
		t.Fatalf("no code in the plan note:\n%s", note)
	}
	return note, m[1]
}

// waitNote waits for a note on id containing want and returns it.
func (ab *approvalBed) waitNote(ctx context.Context, t testing.TB, id, want string) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		for _, n := range ab.pd.Notes(id) {
			if strings.Contains(n.Content, want) && n.User.ID == "PBOT001" {
				return n.Content
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, n := range ab.pd.Notes(id) {
		t.Logf("note by %s:\n%s", n.User.ID, n.Content)
	}
	t.Fatalf("timed out waiting for a note on %s containing %q; worker log:\n%s", id, want, lastLines(ab.logs.String(), 40))
	return ""
}

func (ab *approvalBed) noteAs(id, user, content string) {
	ab.t.Helper()
	if _, err := ab.pd.AddNoteAs(id, user, content); err != nil {
		ab.t.Fatal(err)
	}
}

// run reads the run's ledger record straight from KV.
func (ab *approvalBed) run(ctx context.Context, id string) ledger.Record {
	ab.t.Helper()
	kv, err := ab.js().KeyValue(ctx, queue.BucketRuns)
	if err != nil {
		ab.t.Fatal(err)
	}
	e, err := kv.Get(ctx, "run."+ab.runID(ctx, id))
	if err != nil {
		ab.t.Fatal(err)
	}
	var rec ledger.Record
	if err := json.Unmarshal(e.Value(), &rec); err != nil {
		ab.t.Fatal(err)
	}
	return rec
}

// untouched asserts that nothing after the gate ran for incident id: the ledger has no step
// after the gate, no heap dump is stored, app-1 still takes traffic and was never restarted.
func (ab *approvalBed) untouched(ctx context.Context, t testing.TB, id string) {
	t.Helper()
	rec := ab.run(ctx, id)
	for k := range rec.Steps {
		if !strings.HasPrefix(k, "0/") {
			t.Errorf("step %s of %s is in the ledger: something after the gate ran", k, id)
		}
	}
	out, err := ab.s3.Client().ListObjectsV2(ctx, listInput(ab.s3.Bucket, "incidents/"+id+"/"))
	if err != nil {
		ab.t.Fatal(err)
	}
	for _, o := range out.Contents {
		if strings.Contains(*o.Key, "heap") || strings.Contains(*o.Key, "action.json") {
			t.Errorf("action evidence %s exists for %s", *o.Key, id)
		}
	}
	if hits := ab.proxy.Hits(ctx, t, 20); hits["app-1"] == 0 {
		t.Errorf("app-1 takes no traffic: %v", hits)
	}
	if n := ab.restarts(); n > 1 {
		t.Errorf("restarts = %d, want only the approved run's one", n)
	}
}

func (ab *approvalBed) restarts() int {
	b, _ := os.ReadFile(filepath.Join(ab.dir, "restarts"))
	return strings.Count(string(b), "restarted")
}

// maint reports whether HAProxy sends app-1 no traffic.
func (ab *approvalBed) maint(ctx context.Context) bool {
	return ab.proxy.Hits(ctx, ab.t, 10)["app-1"] == 0
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// TestApprovalEndToEnd drives issue 4 through the receiver: PagerDuty (the stand-in) sends
// the trigger and every note as signed webhooks and answers the on-call queries; the actions
// run against a real JVM, a real HAProxy and the real S3 server. Subtests share the system.
func TestApprovalEndToEnd(t *testing.T) {
	ab := newApprovalBed(t)
	ctx := t.Context()

	t.Run("the on-call user approves and the plan runs step by step", func(t *testing.T) {
		ab.trigger("PAPP001", "fix")
		note, code := ab.gate(ctx, t, "PAPP001")
		t.Logf("plan note:\n%s", note)
		for _, want := range []string{"✓ target-1", "load average", "fix-fix", "heap_dump", "lb_detach", "restart",
			"lb_attach", "/alaya reject " + code, "/approvals/PAPP001/" + code + "?t=", "Expires"} {
			if !strings.Contains(note, want) {
				t.Errorf("plan note lacks %q", want)
			}
		}
		if rec := ab.run(ctx, "PAPP001"); rec.State != ledger.StateParked || rec.NextStep != 2 {
			t.Fatalf("run = %s next %d, want parked before step 3", rec.State, rec.NextStep)
		}
		ab.noteAs("PAPP001", "PONCALL", "/alaya approve "+code)
		ab.waitNote(ctx, t, "PAPP001", "approved by Dana Oncall")
		eventually(t, 30*time.Second, func() bool { return ab.maint(ctx) }, "app-1 out of rotation in HAProxy")
		if err := os.WriteFile(filepath.Join(ab.dir, "go"), nil, 0o644); err != nil {
			t.Fatal(err)
		}
		final := ab.waitNote(ctx, t, "PAPP001", "to app, healthy")
		t.Logf("final note:\n%s", final)
		for _, want := range []string{"heap dump of pid", "detached target-1 (app-1)", "restarted", "attached target-1 (app-1)", "1/1 hosts ok"} {
			if !strings.Contains(final, want) {
				t.Errorf("final note lacks %q", want)
			}
		}
		if hits := ab.proxy.Hits(ctx, t, 30); hits["app-1"] == 0 {
			t.Errorf("traffic did not return to app-1: %v", hits)
		}
		ab.checkEvidence(ctx, t, "PAPP001")
	})

	t.Run("a replayed approval webhook executes nothing twice", func(t *testing.T) {
		before := ab.objectCount(ctx, "PAPP001")
		ab.replayApproval(ctx, "PAPP001")
		ab.waitNote(ctx, t, "PAPP001", "Nothing was executed again")
		if n := ab.restarts(); n != 1 {
			t.Errorf("restarts = %d after a replay, want 1", n)
		}
		if after := ab.objectCount(ctx, "PAPP001"); after != before {
			t.Errorf("evidence objects %d → %d after a replay", before, after)
		}
	})

	refusals := []struct {
		name, id, runbook string
		act               func(t testing.TB, id, code string)
		want              string
	}{
		{"a user who is not on call", "PAPP002", "fix", func(t testing.TB, id, code string) { ab.noteAs(id, "PNOTON1", "/alaya approve "+code) },
			"Sam Bystander is not on call"},
		{"a wrong code", "PAPP003", "fix", func(t testing.TB, id, code string) { ab.noteAs(id, "PONCALL", "/alaya approve 23456A") },
			"no approval with code 23456A"},
		{"after the incident was resolved", "PAPP004", "fix", func(t testing.TB, id, code string) {
			ab.pd.SetStatus(id, incident.StatusResolved)
			ab.waitNote(ctx, t, id, "cancelled: the incident was resolved")
			ab.noteAs(id, "PONCALL", "/alaya approve "+code)
		}, "cancelled"},
		{"after the gate expired", "PAPP005", "expiry", func(t testing.TB, id, code string) {
			ab.waitNote(ctx, t, id, "expired: no decision")
			ab.noteAs(id, "PONCALL", "/alaya approve "+code)
		}, "expired"},
	}
	for _, tc := range refusals {
		t.Run("refused: "+tc.name, func(t *testing.T) {
			ab.trigger(tc.id, tc.runbook)
			_, code := ab.gate(ctx, t, tc.id)
			tc.act(t, tc.id, code)
			refusal := ab.waitNote(ctx, t, tc.id, "not accepted")
			t.Logf("refusal: %s", refusal)
			if !strings.Contains(refusal, tc.want) {
				t.Errorf("refusal lacks %q", tc.want)
			}
			ab.untouched(ctx, t, tc.id)
		})
	}

	t.Run("the capacity guard refuses a detach and nothing else changes", func(t *testing.T) {
		ab.trigger("PAPP006", "guard")
		_, code := ab.gate(ctx, t, "PAPP006")
		ab.noteAs("PAPP006", "PONCALL", "/alaya approve "+code)
		final := ab.waitNote(ctx, t, "PAPP006", "refusing to detach")
		t.Logf("final note:\n%s", final)
		if !strings.Contains(final, "1 of 2 would remain healthy") || strings.Contains(final, "STILL DETACHED") {
			t.Errorf("guard note:\n%s", final)
		}
		if hits := ab.proxy.Hits(ctx, t, 20); hits["app-1"] == 0 {
			t.Errorf("app-1 was detached despite the guard: %v", hits)
		}
		if n := ab.restarts(); n != 1 {
			t.Errorf("restart ran after a refused detach: %d restarts", n)
		}
	})

	t.Run("refused: the plan changed after it was shown", func(t *testing.T) {
		ab.trigger("PAPP007", "changed")
		_, code := ab.gate(ctx, t, "PAPP007")
		path := filepath.Join(ab.harness.dir, "runbooks", "changed.yaml")
		changed := strings.Replace(ab.runbook("changed", "10m", ab.jvm.Marker), "wait: 10s}", "wait: 20s}", 1)
		writeFile(t, path, changed)
		ab.restartWorker() // a redeploy with the edited runbook
		ab.noteAs("PAPP007", "PONCALL", "/alaya approve "+code)
		refusal := ab.waitNote(ctx, t, "PAPP007", "not accepted")
		if !strings.Contains(refusal, "would now be") {
			t.Errorf("refusal: %s", refusal)
		}
		ab.untouched(ctx, t, "PAPP007")
	})
}

// checkEvidence verifies the heap dump in S3 against the manifest, and the manifest's record
// of the approval and the actions.
func (ab *approvalBed) checkEvidence(ctx context.Context, t *testing.T, id string) {
	m, err := evidence.ReadManifest(ctx, ab.store, id, ab.runID(ctx, id))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Verify(ctx, ab.store); err != nil {
		t.Errorf("evidence does not match the manifest: %v", err)
	}
	var dump *evidence.ManifestEntry
	for i, o := range m.Objects {
		if strings.HasSuffix(o.Key, "/03-dump/target-1/heap.hprof") {
			dump = &m.Objects[i]
		}
	}
	if dump == nil {
		t.Fatalf("no heap dump in the manifest: %+v", m.Objects)
	}
	r, err := ab.store.Get(ctx, dump.Key)
	if err != nil {
		t.Fatal(err)
	}
	var sb strings.Builder
	copyAll(&sb, r)
	r.Close()
	data := []byte(sb.String())
	if !strings.HasPrefix(sb.String(), "JAVA PROFILE") || sha256Hex(data) != dump.SHA256 || int64(len(data)) != dump.Size {
		t.Errorf("heap dump in S3: %d bytes sha %s, manifest %+v", len(data), sha256Hex(data), dump)
	}
	if len(m.Approvals) != 1 || m.Approvals[0].Decision != "approved" || m.Approvals[0].By != "Dana Oncall" {
		t.Errorf("manifest approvals = %+v", m.Approvals)
	}
	kinds := ""
	for _, a := range m.Actions {
		if a.ApprovedBy == "" || a.Outcome != "ok" {
			t.Errorf("action record %+v", a)
		}
		kinds += a.Kind + " "
	}
	if kinds != "heap_dump lb_detach restart lb_attach " {
		t.Errorf("manifest actions = %q", kinds)
	}
}

// replayApproval publishes the approval note's webhook event again under a new message id,
// as a PagerDuty retry after JetStream's duplicate window would arrive.
func (ab *approvalBed) replayApproval(ctx context.Context, id string) {
	ab.t.Helper()
	for _, d := range ab.pd.Deliveries() {
		// The person's note, not Alaya's plan note (which shows the command too).
		body := string(d.Body)
		if d.EventType != incident.TypeAnnotated || !strings.Contains(body, "/alaya approve") ||
			strings.Contains(body, "To approve") || !strings.Contains(body, id) {
			continue
		}
		ev, err := pagerduty.DecodeWebhook(d.Body)
		if err != nil {
			ab.t.Fatal(err)
		}
		data, _ := json.Marshal(ev)
		ack, err := ab.js().Publish(ctx, "alaya.events.pagerduty.incident.annotated", data, jetstream.WithMsgID("replay-"+ev.ID))
		if err != nil || ack.Duplicate {
			ab.t.Fatalf("replay: %+v %v", ack, err)
		}
		return
	}
	ab.t.Fatalf("no approval delivery for %s", id)
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
