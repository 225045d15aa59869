package app_test

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/alaya-sre/alaya/incident"
)

const slowRunbook = `name: slow
owner: sre
match: any(alerts, .details.case == "slow")
targets:
  expr: hosts_from_alerts(alerts, "host")
steps:
  - name: long-look
    run: touch DIR/started; sleep 1; echo finished
`

// TestStoppingWorkerFinishesRunningSteps stops the worker while a step runs on the target: the
// step completes and its note is posted, rather than being cut off half way.
func TestStoppingWorkerFinishesRunningSteps(t *testing.T) {
	dir := restartDir(t)
	h := newHarness(t, func(d string, env map[string]string) {
		os.Remove(filepath.Join(d, "runbooks", "diag.yaml"))
		writeFile(t, filepath.Join(d, "runbooks", "slow.yaml"), strings.ReplaceAll(slowRunbook, "DIR", dir))
		env["ALAYA_WORKER_SHUTDOWN_GRACE"] = "20s"
	})
	h.pd.AddIncident(incident.Incident{ID: "PSLOW01", Title: "slow", Status: incident.StatusTriggered,
		Alerts: []incident.Alert{{ID: "ASLOW01", Details: map[string]any{"host": "target-1", "case": "slow"}}}})
	body, hdr := webhook(t, "PSLOW01", "ev-slow-001", "slow", webhookSecret)
	if code, resp := h.post(body, hdr); code != http.StatusAccepted {
		t.Fatalf("webhook answered %d %s", code, resp)
	}
	eventually(t, 20*time.Second, func() bool {
		_, err := os.Stat(filepath.Join(dir, "started"))
		return err == nil
	}, "the step to start on the target")
	h.stopW()
	<-h.workerOK
	notes := h.pd.Notes("PSLOW01")
	if len(notes) != 1 || !strings.Contains(notes[0].Content, "finished") {
		t.Fatalf("after a graceful stop the running step should have finished and been reported; notes: %+v", notes)
	}
	h.restartWorker() // the harness's clean-up expects a running worker
}
