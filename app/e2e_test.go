package app_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/alaya-sre/alaya/evidence"
	"github.com/alaya-sre/alaya/internal/pdstandin"
	"github.com/alaya-sre/alaya/pagerduty"
)

// TestEndToEnd drives the whole path the way PagerDuty would, against real components.
// The subtests share one system and run in order.
func TestEndToEnd(t *testing.T) {
	h := newHarness(t)
	ctx := t.Context()

	t.Run("diagnostics through the bastion become evidence and one note", func(t *testing.T) {
		h.seed("PE2E001", "target-1")
		body, hdr := webhook(t, "PE2E001", "ev-e2e-001", "High load on target-1", webhookSecret)
		if code, resp := h.post(body, hdr); code != http.StatusAccepted {
			t.Fatalf("webhook answered %d %s, want 202", code, resp)
		}
		notes := h.waitNotes(ctx, "PE2E001", 1)
		note := notes[0].Content
		t.Logf("note:\n%s", note)
		for _, want := range []string{
			"Alaya · diag", "1/1 hosts ok", "✓ target-1", "Linux", "load average",
			h.bed.Target().Addr, // hostname -I ran in the target's namespace, reached via the bastion
			"Evidence: http",
		} {
			if !strings.Contains(note, want) {
				t.Errorf("note lacks %q:\n%s", want, note)
			}
		}
		if notes[0].User.ID != "PBOT001" {
			t.Errorf("note posted as %+v, want the From user", notes[0].User)
		}
		if body := fetchLink(t, note, "Evidence: "); !strings.Contains(body, `"sha256"`) {
			t.Errorf("the evidence link in the note does not open the manifest: %s", body)
		}
		if report := fetchLink(t, note, "  full output: "); !strings.Contains(report, "$ uname -a; uptime; hostname -I") ||
			!strings.Contains(report, h.bed.Target().Addr) {
			t.Errorf("the host's report link does not show what ran there:\n%s", report)
		}
		m := h.manifest(ctx, "PE2E001")
		if len(m.Objects) < 3 || m.Runbook != "diag" || m.RunbookVersion == "" {
			t.Fatalf("manifest = %+v", m)
		}
		if err := m.Verify(ctx, h.store); err != nil {
			t.Fatalf("evidence in S3 does not match the manifest's SHA-256 sums: %v", err)
		}
		stdout := h.get(ctx, m, "stdout")
		if !strings.Contains(stdout, h.bed.Target().Addr) || !strings.Contains(stdout, "load average") {
			t.Errorf("stdout evidence = %q", stdout)
		}
	})

	t.Run("the same webhook again changes nothing", func(t *testing.T) {
		body, hdr := webhook(t, "PE2E001", "ev-e2e-001", "High load on target-1", webhookSecret)
		code, resp := h.post(body, hdr)
		if code != http.StatusAccepted || !strings.Contains(resp, `"duplicate":true`) {
			t.Fatalf("redelivery answered %d %s, want 202 duplicate", code, resp)
		}
		// Past JetStream's duplicate window the event would be queued again: the run ledger
		// must recognise it. Publish it under a fresh message id to prove that.
		before := h.objectCount(ctx, "PE2E001")
		h.republish(ctx, body)
		eventually(t, 20*time.Second, func() bool {
			return h.metric(`alaya_runs_total{outcome="duplicate",runbook="diag"}`) >= 1
		}, "the worker to see the duplicate run")
		if n := len(h.pd.Notes("PE2E001")); n != 1 {
			t.Errorf("notes after redelivery = %d, want 1", n)
		}
		if after := h.objectCount(ctx, "PE2E001"); after != before {
			t.Errorf("evidence objects %d → %d after a duplicate", before, after)
		}
	})

	t.Run("a bad signature is refused and nothing is queued", func(t *testing.T) {
		before := h.streamMsgs(ctx)
		body, hdr := webhook(t, "PE2E002", "ev-e2e-002", "forged", "not-the-secret")
		if code, _ := h.post(body, hdr); code != http.StatusUnauthorized {
			t.Fatalf("forged webhook answered %d, want 401", code)
		}
		if after := h.streamMsgs(ctx); after != before {
			t.Errorf("stream grew from %d to %d messages on a forged webhook", before, after)
		}
	})

	t.Run("a changed host key fails the step and the note says so", func(t *testing.T) {
		h.seed("PE2E003", "target-badkey")
		body, hdr := webhook(t, "PE2E003", "ev-e2e-003", "High load on target-badkey", webhookSecret)
		if code, resp := h.post(body, hdr); code != http.StatusAccepted {
			t.Fatalf("webhook answered %d %s", code, resp)
		}
		note := h.waitNotes(ctx, "PE2E003", 1)[0].Content
		t.Logf("note:\n%s", note)
		for _, want := range []string{"✗ target-badkey", "host key mismatch", "0/1 hosts ok"} {
			if !strings.Contains(note, want) {
				t.Errorf("note lacks %q:\n%s", want, note)
			}
		}
	})

	t.Run("an unknown host is refused and reported", func(t *testing.T) {
		h.seed("PE2E004", "db-9.example.com")
		body, hdr := webhook(t, "PE2E004", "ev-e2e-004", "$(touch /tmp/alaya-pwned) on db-9", webhookSecret)
		if code, resp := h.post(body, hdr); code != http.StatusAccepted {
			t.Fatalf("webhook answered %d %s", code, resp)
		}
		note := h.waitNotes(ctx, "PE2E004", 1)[0].Content
		t.Logf("note:\n%s", note)
		if !strings.Contains(note, "db-9.example.com refused") || !strings.Contains(note, "inventory") {
			t.Errorf("note does not report the refused target:\n%s", note)
		}
	})

	t.Run("an Alertmanager notification runs the same runbooks; its note is kept locally", func(t *testing.T) {
		body := []byte(`{"receiver":"alaya","status":"firing","alerts":[{"status":"firing",
			"labels":{"alertname":"HighLoad","host":"target-1","severity":"critical"},
			"annotations":{"summary":"load5 above 8 on target-1"},"startsAt":"2026-11-21T03:00:00Z",
			"endsAt":"0001-01-01T00:00:00Z","fingerprint":"aa11bb22cc33dd44"}],
			"groupLabels":{"alertname":"HighLoad"},"commonLabels":{"alertname":"HighLoad","host":"target-1"},
			"commonAnnotations":{"summary":"load5 above 8 on target-1"},"externalURL":"http://am.example",
			"version":"4","groupKey":"{}:{alertname=\"HighLoad\"}","truncatedAlerts":0}`)
		post := func(token string) int { return postAlertmanager(t, h.receiver, token, body) }
		if code := post("wrong"); code != http.StatusUnauthorized {
			t.Fatalf("wrong bearer token answered %d, want 401", code)
		}
		if code := post(amToken); code != http.StatusAccepted {
			t.Fatalf("alertmanager webhook answered %d, want 202", code)
		}
		eventually(t, 30*time.Second, func() bool {
			return strings.Contains(h.logs.String(), "note kept locally") && strings.Contains(h.logs.String(), "✓ target-1")
		}, "the Alertmanager run's note in the worker log")
		out, err := h.s3.Client().ListObjectsV2(ctx, listInput(h.s3.Bucket, "incidents/am-"))
		if err != nil || len(out.Contents) == 0 {
			t.Errorf("no evidence stored for the Alertmanager incident (%v)", err)
		}
	})

	t.Run("with NATS down the receiver answers 503, and PagerDuty's retry is processed", func(t *testing.T) {
		h.seed("PE2E005", "target-1")
		body, hdr := webhook(t, "PE2E005", "ev-e2e-005", "High load on target-1", webhookSecret)
		h.nats.Shutdown()
		start := time.Now()
		code, _ := h.post(body, hdr)
		if code != http.StatusServiceUnavailable {
			t.Fatalf("with NATS down the webhook answered %d, want 503", code)
		}
		if d := time.Since(start); d > 4*time.Second {
			t.Errorf("503 took %s; PagerDuty gives up after 5 s", d)
		}
		h.nats.Restart()
		waitHTTP(t, h.receiverAdmin+"/readyz", http.StatusOK)
		eventually(t, 20*time.Second, func() bool { c, _ := h.post(body, hdr); return c == http.StatusAccepted }, "202 after NATS returned")
		note := h.waitNotes(ctx, "PE2E005", 1)[0].Content
		if !strings.Contains(note, "✓ target-1") {
			t.Errorf("note after recovery:\n%s", note)
		}
	})
}

func (h *harness) waitNotes(ctx context.Context, id string, n int) []pdNote {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	notes, err := h.pd.WaitNotes(ctx, id, n)
	if err != nil {
		h.t.Fatalf("waiting for %d note(s) on %s: %v\nlogs:\n%s", n, id, err, h.logs.String())
	}
	return notes
}

// manifest finds the run of the diag runbook for incident id and reads its manifest.
func (h *harness) manifest(ctx context.Context, id string) *evidence.Manifest {
	h.t.Helper()
	run := h.runID(ctx, id)
	m, err := evidence.ReadManifest(ctx, h.store, id, run)
	if err != nil {
		h.t.Fatal(err)
	}
	return m
}

func (h *harness) runID(ctx context.Context, id string) string {
	h.t.Helper()
	for _, n := range h.pd.Notes(id) {
		if i := strings.LastIndex(n.Content, "Run "); i >= 0 {
			return strings.TrimSpace(n.Content[i+4:])
		}
	}
	h.t.Fatalf("no run id in the notes of %s", id)
	return ""
}

func (h *harness) get(ctx context.Context, m *evidence.Manifest, name string) string {
	h.t.Helper()
	for _, o := range m.Objects {
		if o.Name == name {
			r, err := h.store.Get(ctx, o.Key)
			if err != nil {
				h.t.Fatal(err)
			}
			defer r.Close()
			var sb strings.Builder
			if _, err := copyAll(&sb, r); err != nil {
				h.t.Fatal(err)
			}
			return sb.String()
		}
	}
	h.t.Fatalf("no object %q in manifest", name)
	return ""
}

func (h *harness) objectCount(ctx context.Context, id string) int {
	out, err := h.s3.Client().ListObjectsV2(ctx, listInput(h.s3.Bucket, "incidents/"+id+"/"))
	if err != nil {
		h.t.Fatal(err)
	}
	return len(out.Contents)
}

func (h *harness) js() jetstream.JetStream {
	nc, err := nats.Connect(h.nats.URL())
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		h.t.Fatal(err)
	}
	return js
}

func (h *harness) streamMsgs(ctx context.Context) uint64 {
	s, err := h.js().Stream(ctx, h.cfg.NATS.Stream)
	if err != nil {
		h.t.Fatal(err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		h.t.Fatal(err)
	}
	return info.State.Msgs
}

// republish puts the decoded event on the stream again under a new message id, as happens
// when PagerDuty retries after JetStream's duplicate window has passed.
func (h *harness) republish(ctx context.Context, body []byte) {
	ev, err := pagerduty.DecodeWebhook(body)
	if err != nil {
		h.t.Fatal(err)
	}
	data, _ := json.Marshal(ev)
	subject := "alaya.events.pagerduty.incident.triggered"
	ack, err := h.js().Publish(ctx, subject, data, jetstream.WithMsgID("late-retry-"+ev.ID))
	if err != nil || ack.Duplicate {
		h.t.Fatalf("republish: %+v %v", ack, err)
	}
}

type pdNote = pdstandin.Note

func copyAll(w io.Writer, r io.Reader) (int64, error) { return io.Copy(w, r) }

func listInput(bucket, prefix string) *s3.ListObjectsV2Input {
	return &s3.ListObjectsV2Input{Bucket: &bucket, Prefix: &prefix}
}

// fetchLink opens the link on the note's line starting with prefix, as a responder's phone would.
func fetchLink(t *testing.T, note, prefix string) string {
	t.Helper()
	for _, line := range strings.Split(note, "\n") {
		if link, ok := strings.CutPrefix(line, prefix); ok {
			resp, err := http.Get(link)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("GET evidence link: %d %s", resp.StatusCode, b)
			}
			return string(b)
		}
	}
	t.Fatalf("no %q link in note:\n%s", prefix, note)
	return ""
}
