package pdstandin_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alaya-sre/alaya/incident"
	"github.com/alaya-sre/alaya/internal/pdstandin"
	"github.com/alaya-sre/alaya/pagerduty"
)

const secret = "whsec-standin"

// receiver is a webhook endpoint that verifies and decodes like Alaya's receiver and answers
// with the statuses it is given, then 202.
type receiver struct {
	mu       sync.Mutex
	statuses []int
	got      []received
	events   chan *incident.Event
}

type received struct {
	header http.Header
	body   []byte
	status int
}

func newReceiver(t *testing.T, statuses ...int) (*receiver, string) {
	rc := &receiver{statuses: statuses, events: make(chan *incident.Event, 100)}
	srv := httptest.NewServer(rc)
	t.Cleanup(srv.Close)
	return rc, srv.URL
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	status := http.StatusAccepted
	if len(rc.statuses) > 0 {
		status, rc.statuses = rc.statuses[0], rc.statuses[1:]
	}
	if !pagerduty.VerifySignature(r.Header.Get("X-PagerDuty-Signature"), body, [][]byte{[]byte(secret)}) {
		status = http.StatusUnauthorized
	}
	rc.got = append(rc.got, received{header: r.Header.Clone(), body: body, status: status})
	rc.mu.Unlock()
	if status == http.StatusAccepted {
		ev, err := pagerduty.DecodeWebhook(body)
		if err != nil {
			status = http.StatusBadRequest
		} else {
			rc.events <- ev
		}
	}
	w.WriteHeader(status)
}

func (rc *receiver) next(t *testing.T) *incident.Event {
	t.Helper()
	select {
	case ev := <-rc.events:
		return ev
	case <-ctx(t).Done():
		t.Fatal("no webhook arrived")
		return nil
	}
}

func TestWebhooksFollowTheIncident(t *testing.T) {
	a := newAPI(t)
	rc, url := newReceiver(t)
	sub := a.pd.Subscribe(url, secret)

	id := a.pd.Trigger(incident.Incident{
		Title: "Heap above 95%", Priority: "P1",
		Service:          incident.Ref{ID: "PSVC001", Summary: "Checkout"},
		EscalationPolicy: incident.Ref{ID: "PEP0001", Summary: "Checkout on-call"},
		Assignees:        []incident.Ref{{ID: "PADA001", Summary: "Ada Okafor"}},
	})
	a.do(t, http.MethodPost, "/incidents/"+id+"/notes", `{"note":{"content":"diagnostics"}}`, "From", "alaya@example.com")
	if _, err := a.pd.AddNoteAs(id, "PADA001", "/alaya approve K7Q2"); err != nil {
		t.Fatal(err)
	}
	a.pd.SetStatus(id, incident.StatusResolved)

	tests := []struct {
		wantType, wantAgent, wantNote string
	}{
		{incident.TypeTriggered, "PINTEGR", ""},
		{incident.TypeAnnotated, "PBOT001", "diagnostics"}, // Alaya's own note comes back too
		{incident.TypeAnnotated, "PADA001", "/alaya approve K7Q2"},
		{incident.TypeResolved, "PINTEGR", ""},
	}
	for i, tt := range tests {
		ev := rc.next(t)
		if ev.Type != tt.wantType || ev.Agent.ID != tt.wantAgent || ev.Incident.ID != id {
			t.Errorf("event %d = %s by %s on %s, want %s by %s on %s", i, ev.Type, ev.Agent.ID, ev.Incident.ID, tt.wantType, tt.wantAgent, id)
		}
		if tt.wantNote != "" && (ev.Note == nil || ev.Note.Content != tt.wantNote || ev.Note.Author.ID != tt.wantAgent) {
			t.Errorf("event %d note = %+v, want %q by %s", i, ev.Note, tt.wantNote, tt.wantAgent)
		}
	}
	checkHeaders(t, rc, sub)
}

func TestTriggeredWebhookCarriesTheIncident(t *testing.T) {
	a := newAPI(t)
	rc, url := newReceiver(t)
	a.pd.Subscribe(url, secret)
	created := time.Date(2026, 3, 1, 3, 0, 0, 0, time.UTC)
	id := a.pd.Trigger(incident.Incident{
		ID: "Q1HEAP1", Number: 7, Title: "Heap", Urgency: "high", Priority: "P1", Key: "heap/app-3", CreatedAt: created,
		Service:          incident.Ref{ID: "PSVC001", Summary: "Checkout"},
		EscalationPolicy: incident.Ref{ID: "PEP0001", Summary: "Checkout on-call"},
		Assignees:        []incident.Ref{{ID: "PADA001", Summary: "Ada Okafor"}},
		Teams:            []incident.Ref{{ID: "PTEAM01", Summary: "Payments"}},
	})
	ev := rc.next(t)
	inc := ev.Incident
	if id != "Q1HEAP1" || inc.ID != id || inc.Number != 7 || inc.Title != "Heap" || inc.Status != "triggered" ||
		inc.Priority != "P1" || inc.Key != "heap/app-3" || !inc.CreatedAt.Equal(created) ||
		inc.EscalationPolicy.ID != "PEP0001" || len(inc.Assignees) != 1 || inc.Teams[0].Summary != "Payments" {
		t.Errorf("incident = %+v", inc)
	}
}

func checkHeaders(t *testing.T, rc *receiver, sub string) {
	t.Helper()
	rc.mu.Lock()
	defer rc.mu.Unlock()
	ids := map[string]bool{}
	for i, r := range rc.got {
		h := r.header
		if h.Get("User-Agent") != "PagerDuty-Webhook/V3.0" || h.Get("X-Webhook-Subscription") != sub ||
			h.Get("Content-Type") != "application/json" || h.Get("X-Webhook-Id") == "" || r.status != http.StatusAccepted {
			t.Errorf("delivery %d: status %d headers %v", i, r.status, h)
		}
		ids[h.Get("X-Webhook-Id")] = true
	}
	if len(ids) != len(rc.got) {
		t.Errorf("%d distinct X-Webhook-Id for %d deliveries", len(ids), len(rc.got))
	}
}

func TestWebhookRedelivery(t *testing.T) {
	tests := []struct {
		name         string
		answers      []int
		wantAttempts int
		wantDone     bool
	}{
		{"503 then accepted", []int{503, 503}, 3, true},
		{"429 then accepted", []int{429}, 2, true},
		{"gives up after the retries", []int{500, 500, 500, 500}, 3, false},
		{"4xx is final", []int{400}, 1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newAPI(t, pdstandin.WithWebhookRetry(2, time.Millisecond))
			rc, url := newReceiver(t, tt.answers...)
			a.pd.Subscribe(url, secret)
			if _, err := a.pd.AddNoteAs(a.seed(t, 0), "PADA001", "hello"); err != nil {
				t.Fatal(err)
			}
			d, err := a.pd.WaitDeliveries(ctx(t))
			if err != nil || len(d) != 1 {
				t.Fatalf("deliveries = %+v, %v", d, err)
			}
			if d[0].Attempts != tt.wantAttempts || d[0].Done != tt.wantDone {
				t.Errorf("delivery = %d attempts, done %v; want %d, %v", d[0].Attempts, d[0].Done, tt.wantAttempts, tt.wantDone)
			}
			rc.mu.Lock()
			defer rc.mu.Unlock()
			for _, r := range rc.got {
				if r.header.Get("X-Webhook-Id") != d[0].WebhookID || string(r.body) != string(d[0].Body) {
					t.Error("a retry changed the webhook id or body")
				}
			}
		})
	}
}

func TestWebhookEnvelopeShape(t *testing.T) {
	a := newAPI(t)
	rc, url := newReceiver(t)
	a.pd.Subscribe(url, secret)
	id := a.pd.Trigger(incident.Incident{Title: "x", Priority: "P2", Service: incident.Ref{ID: "PSVC001"}, EscalationPolicy: incident.Ref{ID: "PEP0001"}})
	if _, err := a.pd.AddNoteAs(id, "PADA001", "hi"); err != nil {
		t.Fatal(err)
	}
	rc.next(t)
	rc.next(t)
	rc.mu.Lock()
	bodies := [][]byte{rc.got[0].body, rc.got[1].body}
	rc.mu.Unlock()
	for i, ref := range []string{"v3/incident.triggered.json", "v3/incident.annotated.json"} {
		var got map[string]any
		if err := json.Unmarshal(bodies[i], &got); err != nil {
			t.Fatal(err)
		}
		if extra := extraFields("", got, loadJSON(t, filepath.Join(webhookDir, ref))); len(extra) > 0 {
			t.Errorf("%s: fields not in PagerDuty's sample: %s", ref, strings.Join(extra, ", "))
		}
	}
}

// TestTriggeredWebhook checks the delivery load tools send themselves: signed with the given
// secret and decoding to the stored incident's trigger.
func TestTriggeredWebhook(t *testing.T) {
	a := newAPI(t)
	id := a.seed(t, 1)
	body, hdr, err := a.pd.TriggeredWebhook(id, secret)
	if err != nil {
		t.Fatal(err)
	}
	if !pagerduty.VerifySignature(hdr.Get("X-PagerDuty-Signature"), body, [][]byte{[]byte(secret)}) || hdr.Get("X-Webhook-Id") == "" {
		t.Fatalf("headers %v do not sign the body", hdr)
	}
	ev, err := pagerduty.DecodeWebhook(body)
	if err != nil || ev.Type != incident.TypeTriggered || ev.Incident.ID != id {
		t.Fatalf("decoded %+v, %v; want a trigger of %s", ev, err, id)
	}
	if _, _, err := a.pd.TriggeredWebhook("PNOSUCH", secret); err == nil {
		t.Error("a webhook for an unknown incident was built")
	}
}
