package pagerduty_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/alaya-sre/alaya/incident"
	"github.com/alaya-sre/alaya/pagerduty"
)

var update = flag.Bool("update", false, "rewrite testdata golden files")

// webhookDir holds a webhook of every V3 event type, written in the shapes PagerDuty
// documents, with the project's own values.
const webhookDir = "testdata/v3"

// TestDecodeWebhookGolden decodes the project's own fixtures and compares the events with
// golden files (go test -update rewrites them).
func TestDecodeWebhookGolden(t *testing.T) {
	files, _ := filepath.Glob("testdata/webhooks/*.json")
	for _, file := range files {
		if strings.HasSuffix(file, ".golden.json") {
			continue
		}
		t.Run(filepath.Base(file), func(t *testing.T) {
			ev, err := pagerduty.DecodeWebhook(readFile(t, file))
			if err != nil {
				t.Fatalf("DecodeWebhook: %v", err)
			}
			got, _ := json.MarshalIndent(ev, "", "  ")
			golden := strings.TrimSuffix(file, ".json") + ".golden.json"
			if *update {
				if err := os.WriteFile(golden, append(got, '\n'), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if want := readFile(t, golden); !bytes.Equal(bytes.TrimSpace(want), got) {
				t.Errorf("decoded event differs from %s:\n%s", golden, got)
			}
		})
	}
}

func TestDecodeWebhookKeyFields(t *testing.T) {
	tests := []struct {
		file  string
		check func(t *testing.T, ev *incident.Event)
	}{
		{"triggered.json", func(t *testing.T, ev *incident.Event) {
			want := []string{ev.Type, ev.Incident.ID, ev.Incident.EscalationPolicy.ID, ev.Incident.Key, ev.Agent.Type}
			expect(t, want, incident.TypeTriggered, "Q3HEAPJVM7X1", "PCHKEP1", "checkout/JvmHeapHigh/app-3", "inbound_integration_reference")
			if len(ev.Incident.Assignees) != 2 || ev.Incident.Priority != "" || ev.Source != "pagerduty" {
				t.Errorf("incident = %+v", ev.Incident)
			}
		}},
		{"annotated_approve.json", func(t *testing.T, ev *incident.Event) {
			if ev.Note == nil {
				t.Fatal("no note")
			}
			expect(t, []string{ev.Incident.ID, ev.Note.ID, ev.Note.Content, ev.Note.Author.ID}, "Q3HEAPJVM7X1", "PNOTE7Q", "/alaya approve K7Q2", "PADA001")
		}},
		{"resolved_priority.json", func(t *testing.T, ev *incident.Event) {
			expect(t, []string{ev.Incident.Status, ev.Incident.Priority, ev.Incident.Teams[0].Summary}, "resolved", "P1", "Payments")
		}},
		{"ping.json", func(t *testing.T, ev *incident.Event) {
			expect(t, []string{ev.Type, ev.Incident.ID, ev.Agent.ID}, incident.TypePing, "", "")
		}},
		{"task_created.json", func(t *testing.T, ev *incident.Event) {
			expect(t, []string{ev.Incident.ID, ev.Incident.Title}, "Q3HEAPJVM7X1", "")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			ev, err := pagerduty.DecodeWebhook(readFile(t, filepath.Join("testdata/webhooks", tt.file)))
			if err != nil {
				t.Fatalf("DecodeWebhook: %v", err)
			}
			tt.check(t, ev)
		})
	}
}

func TestDecodeWebhookMalformed(t *testing.T) {
	files, _ := filepath.Glob("testdata/malformed/*.json")
	if len(files) == 0 {
		t.Fatal("no malformed fixtures")
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			ev, err := pagerduty.DecodeWebhook(readFile(t, file))
			if !errors.Is(err, pagerduty.ErrMalformed) || ev != nil {
				t.Fatalf("DecodeWebhook = %v, %v; want ErrMalformed", ev, err)
			}
			if pagerduty.Retryable(err) {
				t.Error("a malformed webhook must not be retryable")
			}
		})
	}
}

// TestDecodeWebhookEveryType decodes a webhook of every V3 event type and checks what Alaya
// reads against the raw JSON.
func TestDecodeWebhookEveryType(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(webhookDir, "*.json"))
	if len(files) < 30 {
		t.Fatalf("only %d webhook fixtures in %s", len(files), webhookDir)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			body := readFile(t, file)
			ev, err := pagerduty.DecodeWebhook(body)
			if err != nil {
				t.Fatalf("DecodeWebhook: %v", err)
			}
			checkAgainstRaw(t, ev, body)
		})
	}
	t.Run("historical sample without envelope", func(t *testing.T) {
		body := readFile(t, filepath.Join(webhookDir, "historical/workflow_started_without_envelope.json"))
		if _, err := pagerduty.DecodeWebhook(body); !errors.Is(err, pagerduty.ErrMalformed) {
			t.Errorf("err = %v, want ErrMalformed", err)
		}
	})
}

// rawEvent is the fixture read generically, to cross-check the decoder.
type rawEvent struct {
	Event struct {
		ID        string `json:"id"`
		EventType string `json:"event_type"`
		Agent     *struct {
			ID string `json:"id"`
		} `json:"agent"`
		Data map[string]any `json:"data"`
	} `json:"event"`
}

func checkAgainstRaw(t *testing.T, ev *incident.Event, body []byte) {
	t.Helper()
	var raw rawEvent
	if err := json.Unmarshal(body, &raw); err != nil {
		t.Fatal(err)
	}
	r := raw.Event
	expect(t, []string{ev.ID, ev.Type, ev.Source}, r.ID, r.EventType, "pagerduty")
	if r.Agent != nil && ev.Agent.ID != r.Agent.ID {
		t.Errorf("agent = %q, want %q", ev.Agent.ID, r.Agent.ID)
	}
	switch r.Data["type"] {
	case "incident":
		expect(t, []string{ev.Incident.ID, ev.Incident.Title, ev.Incident.Status}, r.Data["id"].(string), r.Data["title"].(string), r.Data["status"].(string))
		if ev.Incident.EscalationPolicy.ID == "" || ev.Incident.Service.ID == "" || ev.Incident.CreatedAt.IsZero() {
			t.Errorf("incident lacks policy, service or creation time: %+v", ev.Incident)
		}
	case "incident_note":
		inc := r.Data["incident"].(map[string]any)
		if ev.Note == nil || ev.Note.Content != r.Data["content"] || ev.Incident.ID != inc["id"] || ev.Note.Author.ID != r.Agent.ID {
			t.Errorf("note event = %+v / %+v", ev.Incident, ev.Note)
		}
	default:
		if inc, ok := r.Data["incident"].(map[string]any); ok && ev.Incident.ID != inc["id"] {
			t.Errorf("incident id = %q, want %q", ev.Incident.ID, inc["id"])
		}
	}
}

func expect(t *testing.T, got []string, want ...string) {
	t.Helper()
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("field %d = %q, want %q", i, got[i], want[i])
		}
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
