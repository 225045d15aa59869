package app_test

import (
	"context"
	"encoding/base64"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/alaya-sre/alaya/incident"
)

// canary is configured as a secret (a webhook secret in rotation) and then sent in every
// other kind of input, to see whether it comes out anywhere people or stores can read it.
const canary = "cnry-7Qx2-Lm9v-Zt4k-0pWs"

// canaryRunbook puts the canary through command arguments and host output (plain, base64 and
// upper-cased) before a gate, and into an action's command after it.
const canaryRunbook = `name: canary
owner: sre
match: any(alerts, .details.case == "canary")
targets:
  expr: hosts_from_alerts(alerts, "host")
steps:
  - name: echo
    run: echo {{ incident.title }}; echo {{ detail(alerts, "token") }} | base64; echo {{ detail(alerts, "token") }} | tr a-z A-Z; echo password={{ detail(alerts, "token") }}
  - name: approve
    gate: {}
  - name: restart
    restart:
      service: demo
      command: echo restarted {{ detail(alerts, "token") }} >> DIR/restarts
      verify_command: test -s DIR/restarts
`

// canaryForms are the shapes in which the canary must not be found.
var canaryForms = []string{
	canary, strings.ToUpper(canary), strings.ToLower(canary),
	base64.StdEncoding.EncodeToString([]byte(canary))[:24],
}

func leakedForm(text string) string {
	for _, f := range canaryForms {
		if strings.Contains(text, f) {
			return f
		}
	}
	return ""
}

// TestCanaryNeverLeaks sends a configured secret in the alert's title and details, the
// command's arguments, the host's output and an approver's note, through the real receiver,
// worker, sshd, S3 and the PagerDuty stand-in, and looks for it in every evidence object,
// every note, the approval page and the logs (the harness checks the logs at cleanup).
func TestCanaryNeverLeaks(t *testing.T) {
	restarts := restartDir(t)
	proxy := newAssertingProxy(t, "dana@example.com")
	h := newHarness(t, func(dir string, env map[string]string) {
		os.Remove(filepath.Join(dir, "runbooks", "diag.yaml"))
		writeFile(t, filepath.Join(dir, "runbooks", "canary.yaml"), strings.ReplaceAll(canaryRunbook, "DIR", restarts))
		env["ALAYA_RECEIVER_WEBHOOK_SECRETS"] += "," + canary
		env["ALAYA_RECEIVER_PUBLIC_URL"] = "https://alaya.example.test"
		proxy.configure(t, dir, env)
	})
	proxy.start(t, h.page)
	h.pd.SetOnCall("PEP0001", "PONCALL")
	h.pd.Subscribe(h.receiver+"/v1/webhooks/pagerduty", webhookSecret)
	ctx := t.Context()
	h.pd.Trigger(incident.Incident{
		ID: "PCANARY", Title: "disk full " + canary, Status: incident.StatusTriggered, Urgency: "high",
		Service:          incident.Ref{ID: "PSVC001", Summary: "checkout " + canary},
		EscalationPolicy: incident.Ref{ID: "PEP0001", Summary: "Checkout on-call"},
		Alerts: []incident.Alert{{ID: "ACANARY", Summary: "disk full " + canary, Status: "triggered",
			Details: map[string]any{"host": "target-1", "case": "canary", "token": canary}}},
	})
	gate := h.waitNoteWith(ctx, "PCANARY", "Approval needed")
	code := codeRe.FindStringSubmatch(gate)
	review := reviewRe.FindStringSubmatch(gate)
	if code == nil || review == nil {
		t.Fatalf("no code or review link in the gate note:\n%s", gate)
	}
	page := approvalPage(t, proxy.URL, review[1])
	if !strings.Contains(page, "restart") {
		t.Fatalf("the approval page does not show the plan:\n%s", page)
	}
	if f := leakedForm(page); f != "" {
		t.Errorf("the approval page shows the canary (%q)", f)
	}
	if _, err := h.pd.AddNoteAs("PCANARY", "PONCALL", "/alaya approve "+code[1]+" ok with "+canary); err != nil {
		t.Fatal(err)
	}
	h.waitNoteWith(ctx, "PCANARY", "1/1 hosts ok")
	eventually(t, 10*time.Second, func() bool {
		b, _ := os.ReadFile(filepath.Join(restarts, "restarts"))
		return strings.Contains(string(b), "restarted "+canary)
	}, "the approved restart to run with the real value")

	for _, n := range h.pd.Notes("PCANARY") {
		if f := leakedForm(n.Content); f != "" && !strings.HasPrefix(n.Content, "/alaya approve") {
			t.Errorf("a note shows the canary (%q):\n%s", f, n.Content)
		}
	}
	objects := h.allObjects(ctx)
	if len(objects) < 5 {
		t.Fatalf("only %d evidence objects", len(objects))
	}
	for key, body := range objects {
		if f := leakedForm(body); f != "" {
			t.Errorf("evidence %s holds the canary (%q):\n%s", key, f, body)
		}
	}
	if f := leakedForm(h.logs.String()); f != "" {
		t.Errorf("the logs hold the canary (%q)", f) // the harness checks the plain form again at the end
	}
}

// waitNoteWith waits for a note by Alaya on id containing want.
func (h *harness) waitNoteWith(ctx context.Context, id, want string) string {
	h.t.Helper()
	var found string
	eventually(h.t, 60*time.Second, func() bool {
		for _, n := range h.pd.Notes(id) {
			if strings.Contains(n.Content, want) && n.User.ID == "PBOT001" {
				found = n.Content
				return true
			}
		}
		return false
	}, "a note on "+id+" containing "+want)
	return found
}

// approvalPage fetches the page a review link points to through the authenticating proxy at
// base, as the on-call.
func approvalPage(t *testing.T, base, link string) string {
	t.Helper()
	path := link[strings.Index(link, "/approvals/"):]
	resp, err := http.Get(base + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, resp.StatusCode, b)
	}
	return string(b)
}

// allObjects reads every object in the evidence bucket.
func (h *harness) allObjects(ctx context.Context) map[string]string {
	h.t.Helper()
	out, err := h.s3.Client().ListObjectsV2(ctx, listInput(h.s3.Bucket, ""))
	if err != nil {
		h.t.Fatal(err)
	}
	objects := map[string]string{}
	for _, o := range out.Contents {
		r, err := h.store.Get(ctx, *o.Key)
		if err != nil {
			h.t.Fatal(err)
		}
		b, _ := io.ReadAll(r)
		r.Close()
		objects[*o.Key] = string(b)
	}
	return objects
}
