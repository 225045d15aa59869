package app_test

import (
	"bytes"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestSourceEndToEnd: an alert from a declared source runs the same runbooks through the
// bastion as a PagerDuty incident, and since the incident does not exist in PagerDuty, the
// worker never calls PagerDuty's API for it: the note is kept locally.
func TestSourceEndToEnd(t *testing.T) {
	h := newHarness(t, func(dir string, env map[string]string) {
		writeFile(t, filepath.Join(dir, "sources", "tool.yaml"), "name: tool\nauth:\n  bearer: {secret_file: tool.token}\n"+genericMapping)
		writeFile(t, filepath.Join(dir, "sources", "tool.token"), srcBearerToken+"\n")
		env["ALAYA_RECEIVER_SOURCES_DIR"] = filepath.Join(dir, "sources")
	})
	body := []byte(`{"alert_id": "T-77", "state": "critical", "summary": "load high on target-1", "host": "target-1"}`)
	req, _ := http.NewRequest(http.MethodPost, h.receiver+"/v1/webhooks/in/tool", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+srcBearerToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("source webhook answered %d, want 202", resp.StatusCode)
	}
	eventually(t, 30*time.Second, func() bool {
		logs := h.logs.String()
		return strings.Contains(logs, "note kept locally") && strings.Contains(logs, `"incident":"src-tool-T-77"`) &&
			strings.Contains(logs, "✓ target-1")
	}, "the source run's note in the worker log")
	for _, r := range h.pd.Requests() {
		if strings.Contains(r.Path, "src-") || strings.Contains(r.Query, "src-") {
			t.Errorf("the worker called PagerDuty for a source's incident: %s %s?%s", r.Method, r.Path, r.Query)
		}
	}
	if strings.Contains(h.logs.String(), srcBearerToken) {
		t.Error("the source's token reached the log")
	}
}
