package app_test

import (
	"context"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/alaya-sre/alaya/incident"
	"github.com/alaya-sre/alaya/queue"
)

// TestInputsCannotBendARun is issue 8's "inputs that bend the run", through the real receiver
// and worker, JetStream, the sshd bed and the PagerDuty stand-in: a signed delivery from the
// past is refused; a replay that got past the stream's de-duplication window after the
// runbook was edited finds the run it already started; and a triggered event for an incident
// PagerDuty already resolved starts nothing.
func TestInputsCannotBendARun(t *testing.T) {
	h := newHarness(t)
	ctx := t.Context()

	t.Run("a signed delivery from 2020 is refused with 422 and counted", func(t *testing.T) {
		h.seed("PINP000", "target-1")
		before := h.streamMsgs(ctx)
		body, hdr := webhookAt(t, "PINP000", "ev-inp-2020", "High load on target-1", webhookSecret,
			time.Date(2020, 6, 1, 3, 0, 0, 0, time.UTC))
		if code, resp := h.post(body, hdr); code != http.StatusUnprocessableEntity || !strings.Contains(resp, "occurred_at") {
			t.Fatalf("a delivery from 2020 answered %d %s, want 422 naming occurred_at", code, resp)
		}
		if after := h.streamMsgs(ctx); after != before {
			t.Errorf("the stream grew from %d to %d messages", before, after)
		}
		if n := h.receiverMetric(`alaya_webhook_refused_total{reason="stale",source="pagerduty"}`); n != 1 {
			t.Errorf("stale refusals counted: %v", n)
		}
	})

	t.Run("a replay after a runbook edit is the same run", func(t *testing.T) {
		h.seed("PINP001", "target-1")
		body, hdr := webhook(t, "PINP001", "ev-inp-001", "High load on target-1", webhookSecret)
		if code, resp := h.post(body, hdr); code != http.StatusAccepted {
			t.Fatalf("webhook answered %d %s", code, resp)
		}
		h.waitNotes(ctx, "PINP001", 1)
		objects := h.objectCount(ctx, "PINP001")

		// The runbook changes (a new version) and the worker picks it up; then the event comes
		// back after the stream's window, as a late PagerDuty retry or a replay would.
		edited := strings.Replace(diagRunbook, "run: uname -a; uptime; hostname -I", "run: uname -a; uptime; hostname -I; true", 1)
		writeFile(t, filepath.Join(h.dir, "runbooks", "diag.yaml"), edited)
		h.restartWorker()
		h.republish(ctx, body)
		eventually(t, 30*time.Second, func() bool {
			return h.metric(`alaya_runs_total{outcome="duplicate",runbook="diag"}`) >= 1 || len(h.pd.Notes("PINP001")) > 1
		}, "the worker to handle the replay")
		if n := len(h.pd.Notes("PINP001")); n != 1 {
			t.Errorf("%d notes after the replay, want 1: the edited runbook ran the diagnostics again", n)
		}
		if after := h.objectCount(ctx, "PINP001"); after != objects {
			t.Errorf("evidence objects %d -> %d after the replay", objects, after)
		}
	})

	t.Run("an Alertmanager notification replayed after the window is the same run", func(t *testing.T) {
		body := []byte(`{"version":"4","groupKey":"{}:{alertname=\"ReplayLoad\"}","receiver":"alaya","status":"firing",
			"alerts":[{"status":"firing","labels":{"alertname":"ReplayLoad","host":"target-1"},
			"annotations":{"summary":"load on target-1"},"startsAt":"2026-11-21T03:00:00Z","fingerprint":"ee55ff66aa77bb88"}],
			"commonLabels":{"alertname":"ReplayLoad","host":"target-1"},"externalURL":"http://am.example"}`)
		ok := h.metric(`alaya_runs_total{outcome="ok",runbook="diag"}`)
		if code := postAlertmanager(t, h.receiver, amToken, body); code != http.StatusAccepted {
			t.Fatalf("alertmanager webhook answered %d", code)
		}
		eventually(t, 30*time.Second, func() bool { return h.metric(`alaya_runs_total{outcome="ok",runbook="diag"}`) > ok },
			"the Alertmanager run")
		objects := h.amObjects(ctx)

		// The stored event again under a fresh message id, as the stream takes it after its window.
		stream, err := h.js().Stream(ctx, queue.DefaultStream)
		if err != nil {
			t.Fatal(err)
		}
		msg, err := stream.GetLastMsgForSubject(ctx, "alaya.events.alertmanager.incident.triggered")
		if err != nil {
			t.Fatal(err)
		}
		dups := h.metric(`alaya_runs_total{outcome="duplicate",runbook="diag"}`)
		if _, err := h.js().Publish(ctx, msg.Subject, msg.Data, jetstream.WithMsgID("late-am-replay")); err != nil {
			t.Fatal(err)
		}
		eventually(t, 30*time.Second, func() bool {
			return h.metric(`alaya_runs_total{outcome="duplicate",runbook="diag"}`) > dups ||
				h.metric(`alaya_runs_total{outcome="ok",runbook="diag"}`) > ok+1
		}, "the worker to handle the replay")
		if after := h.amObjects(ctx); after != objects {
			t.Errorf("evidence objects %d -> %d after the replay: a second run", objects, after)
		}
	})

	t.Run("a triggered event for a resolved incident does nothing", func(t *testing.T) {
		h.seed("PINP002", "target-1")
		h.pd.SetStatus("PINP002", incident.StatusResolved)
		body, hdr := webhook(t, "PINP002", "ev-inp-002", "High load on target-1", webhookSecret)
		if code, resp := h.post(body, hdr); code != http.StatusAccepted {
			t.Fatalf("webhook answered %d %s", code, resp)
		}
		eventually(t, 30*time.Second, func() bool {
			return h.metric(`alaya_runs_total{outcome="resolved",runbook=""}`) >= 1 || len(h.pd.Notes("PINP002")) > 0
		}, "the worker to handle the event")
		if notes := h.pd.Notes("PINP002"); len(notes) != 0 {
			t.Errorf("a resolved incident got a note: %q", notes[0].Content)
		}
		if n := h.objectCount(ctx, "PINP002"); n != 0 {
			t.Errorf("a resolved incident got %d evidence objects", n)
		}
	})
}

// amObjects counts the evidence objects of Alertmanager incidents (their ids start "am-").
func (h *harness) amObjects(ctx context.Context) int {
	out, err := h.s3.Client().ListObjectsV2(ctx, listInput(h.s3.Bucket, "incidents/am-"))
	if err != nil {
		h.t.Fatal(err)
	}
	return len(out.Contents)
}

// receiverMetric returns the value of one series from the receiver's /metrics, or 0.
func (h *harness) receiverMetric(series string) float64 {
	return scrape(h.receiverAdmin+"/metrics", series) // never on the webhook listener
}
