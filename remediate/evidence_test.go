package remediate_test

import (
	"context"
	"encoding/json"
	"io"
	"path"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/smithy-go"

	"github.com/alaya-sre/alaya/evidence"
	"github.com/alaya-sre/alaya/ledger"
)

// faultyStore is the bed's real evidence store; objects whose base name is in fail are refused
// the way S3 refuses with revoked or expired credentials.
type faultyStore struct {
	evidence.Store
	mu   sync.Mutex
	fail map[string]bool
}

func (f *faultyStore) failing(names ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fail = map[string]bool{}
	for _, n := range names {
		f.fail[n] = true
	}
}

func (f *faultyStore) Put(ctx context.Context, key string, r io.Reader, opt evidence.PutOptions) (evidence.Object, error) {
	f.mu.Lock()
	fail := f.fail[path.Base(key)]
	f.mu.Unlock()
	if fail {
		_, _ = io.Copy(io.Discard, r)
		return evidence.Object{}, &smithy.GenericAPIError{Code: "AccessDenied", Message: "Access Denied"}
	}
	return f.Store.Put(ctx, key, r, opt)
}

// An action that succeeded stays a success when its action.json cannot be stored: the later
// steps on the host run, and the note says the evidence is missing.
func TestEvidenceFailureDoesNotFailASuccessfulAction(t *testing.T) {
	b := newBedInv(t, twoHostRunbook, "hosts:\n  - name: a\n    transport: local\n", nil)
	c := &calls{}
	b.runner.hook = c.hook
	if err := b.newP("w1").Handle(t.Context(), triggeredOn("PEV1", "a")); err != nil {
		t.Fatal(err)
	}
	code := codeRe.FindStringSubmatch(b.pd.find("Approval needed"))[1]
	b.store.failing("action.json")
	handle(t, b.newP("w1"), approve("PEV1", code, "ap-ev-1"))
	if c.count("a:start-it") != 1 {
		t.Errorf("start did not run after a successful stop whose action.json was refused: %q", c.ran)
	}
	final := b.pd.last()
	if !strings.Contains(final, "1/1 hosts ok") || !strings.Contains(final, "evidence missing") {
		t.Errorf("the final note must count the host ok and say evidence is missing: %q", final)
	}
}

// A run whose manifest cannot be stored still ends, with a note that says so.
func TestManifestFailureStillEndsWithANote(t *testing.T) {
	b := newBed(t)
	b.store.failing("manifest.json")
	err := b.newP("w1").Handle(t.Context(), triggered("PEV2"))
	if err != nil {
		t.Fatalf("the event failed instead of ending with a note: %v", err)
	}
	if b.pd.find("evidence missing") == "" {
		t.Fatalf("no note says the evidence is missing: %q", b.pd.notes)
	}
}

// A redelivered trigger whose diagnostics are already recorded does not run them again.
func TestRedeliveryDoesNotRerunRecordedDiagnostics(t *testing.T) {
	b := newBedWith(t, diagRunbook)
	p := b.newP("w1")
	handle(t, p, triggered("PEV3"))
	if n := b.runner.count("uptime"); n != 1 {
		t.Fatalf("uptime ran %d times", n)
	}
	// The first handler died after the first step: the record says running, step 0 done.
	keys, _ := b.runs.ListKeys(t.Context())
	var runKey string
	for k := range keys.Keys() {
		if strings.HasPrefix(k, "run.") {
			runKey = k
		}
	}
	e, err := b.runs.Get(t.Context(), runKey)
	if err != nil {
		t.Fatal(err)
	}
	var rec ledger.Record
	json.Unmarshal(e.Value(), &rec)
	rec.State, rec.Owner, rec.Heartbeat = ledger.StateRunning, "", time.Now().Add(-time.Hour)
	delete(rec.Steps, "1/here")
	data, _ := json.Marshal(rec)
	if _, err := b.runs.Put(t.Context(), runKey, data); err != nil {
		t.Fatal(err)
	}
	handle(t, b.newP("w2"), triggered("PEV3"))
	if n := b.runner.count("uptime"); n != 1 {
		t.Errorf("recorded diagnostics ran again on redelivery: uptime ran %d times", n)
	}
	if n := b.runner.count("df -h"); n != 2 {
		t.Errorf("the unrecorded step should run again: df ran %d times", n)
	}
}

const diagRunbook = `name: diag
owner: sre
match: any(alerts, .details.host != "")
targets:
  expr: hosts_from_alerts(alerts, "host")
steps:
  - name: up
    run: uptime
  - name: disk
    run: df -h
`
