package loadtest_test

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/alaya-sre/alaya/incident"
	"github.com/alaya-sre/alaya/internal/pdstandin"
	"github.com/alaya-sre/alaya/internal/testenv/fleet"
)

var bins fleet.Binaries

func TestMain(m *testing.M) { os.Exit(fleet.RunTests(m, &bins)) }

// diagRunbook is a read-only runbook on the host the alert names.
const diagRunbook = `name: diag
owner: sre
match: any(alerts, .details.host != "")
targets:
  expr: hosts_from_alerts(alerts, "host")
steps:
  - name: system
    run: uptime; free -m; df -hP /
`

func runbooks(rbs map[string]string) func(*fleet.Fleet) map[string]string {
	return func(*fleet.Fleet) map[string]string { return rbs }
}

// seed stores an incident whose alert names host, without sending its webhook.
func seed(f *fleet.Fleet, id, host string) {
	f.PD.AddIncident(incident.Incident{
		ID: id, Title: "load on " + host, Status: incident.StatusTriggered, Urgency: "high",
		Service:          incident.Ref{ID: "PSVC001", Summary: "checkout"},
		EscalationPolicy: incident.Ref{ID: fleet.Policy, Summary: "Checkout on-call"},
		Alerts: []incident.Alert{{ID: "A" + id, Summary: "load on " + host, Status: "triggered",
			Details: map[string]any{"host": host}}},
	})
}

// delivery is one signed webhook, ready to post.
type delivery struct {
	body []byte
	hdr  http.Header
}

func webhookFor(tb testing.TB, f *fleet.Fleet, id string) delivery {
	body, hdr, err := f.PD.TriggeredWebhook(id, fleet.WebhookSecret)
	if err != nil {
		tb.Fatal(err)
	}
	return delivery{body, hdr}
}

// post sends d and returns the answer's status and how long it took.
func post(f *fleet.Fleet, d delivery) (int, time.Duration) {
	start := time.Now()
	req, _ := http.NewRequest(http.MethodPost, f.Webhook, bytes.NewReader(d.body))
	req.Header = d.hdr.Clone()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, time.Since(start)
	}
	resp.Body.Close()
	return resp.StatusCode, time.Since(start)
}

// botNotes are the notes Alaya wrote on an incident.
func botNotes(f *fleet.Fleet, id string) []pdstandin.Note {
	var out []pdstandin.Note
	for _, n := range f.PD.Notes(id) {
		if n.User.ID == "PBOT001" {
			out = append(out, n)
		}
	}
	return out
}

// waitBotNote waits until Alaya wrote on the incident and returns when the note arrived.
func waitBotNote(ctx context.Context, tb testing.TB, f *fleet.Fleet, id string) time.Time {
	for seen := 0; ; {
		notes, err := f.PD.WaitNotes(ctx, id, seen+1)
		if err != nil {
			tb.Fatalf("no note on %s: %v", id, err)
		}
		for _, n := range notes[seen:] {
			if n.User.ID == "PBOT001" {
				return n.CreatedAt
			}
		}
		seen = len(notes)
	}
}

// quantile of sorted durations, in milliseconds.
func quantile(sorted []time.Duration, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	return float64(sorted[min(len(sorted)-1, int(q*float64(len(sorted))))]) / float64(time.Millisecond)
}

func sortDurations(d []time.Duration) []time.Duration {
	d = slices.Clone(d)
	slices.Sort(d)
	return d
}

// evidenceDir is where versitygw keeps an incident's evidence objects on disk.
func evidenceDir(f *fleet.Fleet, id string) string {
	return filepath.Join(f.S3.Dir, f.S3.Bucket, "incidents", id)
}
