package app_test

import (
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/alaya-sre/alaya/incident"
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

// receiverMetric returns the value of one series from the receiver's /metrics, or 0.
func (h *harness) receiverMetric(series string) float64 {
	return scrape(h.receiver+"/metrics", series)
}
