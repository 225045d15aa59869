package webhook_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/alaya-sre/alaya/incident"
	"github.com/alaya-sre/alaya/queue"
	"github.com/alaya-sre/alaya/webhook"
)

func TestPagerDutyHandler(t *testing.T) {
	e := newEnv(t, [][]byte{secretNew, secretOld}, time.Second)
	body := fixture(t, "incident.triggered.json")
	ping := fixture(t, "pagey.ping.json")
	padded := func(n int) []byte { // a valid webhook of exactly n bytes
		return append(bytes.TrimSpace(body), bytes.Repeat([]byte(" "), n-len(bytes.TrimSpace(body)))...)
	}
	atLimit, overLimit := padded(webhook.DefaultMaxBody), padded(webhook.DefaultMaxBody+1)
	noID := []byte(strings.Replace(string(body), `"id": "01HZALAYATESTEVENT0000001",`, "", 1))
	noIncident := []byte(`{"event":{"id":"E1","event_type":"incident.triggered","data":{}}}`)

	for _, tc := range []struct {
		name      string
		body      []byte
		signature string
		status    int
		queued    uint64 // messages added to the stream
		want      string // in the response body
	}{
		{"signed with the current secret", body, sign(secretNew, body), 202, 1, `"accepted"`},
		{"the same webhook again is a duplicate", body, sign(secretNew, body), 202, 0, `"duplicate":true`},
		{"signed with the previous secret during rotation", noIDFree(body, "E-old"), sign(secretOld, noIDFree(body, "E-old")), 202, 1, `"E-old"`},
		{"two signatures, one matching", noIDFree(body, "E-two"), sign([]byte("unknown"), noIDFree(body, "E-two")) + "," + sign(secretNew, noIDFree(body, "E-two")), 202, 1, `"E-two"`},
		{"no signature", body, "", 401, 0, "missing X-PagerDuty-Signature"},
		{"signed with an unknown secret", noIDFree(body, "E-bad"), sign([]byte("guess"), noIDFree(body, "E-bad")), 401, 0, "does not match"},
		{"signature of other bytes", noIDFree(body, "E-tamper"), sign(secretNew, body), 401, 0, "does not match"},
		{"garbage signature", body, "v1=zz", 401, 0, "does not match"},
		{"not JSON", []byte("incident!"), sign(secretNew, []byte("incident!")), 400, 0, "malformed"},
		{"no incident", noIncident, sign(secretNew, noIncident), 400, 0, "malformed"},
		{"no event id falls back to X-Webhook-Id", noID, sign(secretNew, noID), 202, 1, `"hdr-webhook-id"`},
		{"ping", ping, sign(secretNew, ping), 200, 0, "pong"},
		{"body of exactly the limit", atLimit, sign(secretNew, atLimit), 202, 0, `"duplicate":true`},
		{"body one byte over the limit", overLimit, sign(secretNew, overLimit), 413, 0, "larger than 262144 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := e.stored(t)
			status, _, resp := e.post(t, tc.body, tc.signature)
			if status != tc.status {
				t.Errorf("status %d, want %d (%v)", status, tc.status, resp)
			}
			if got := e.stored(t) - before; got != tc.queued {
				t.Errorf("%d messages queued, want %d", got, tc.queued)
			}
			if !strings.Contains(toJSON(resp), tc.want) {
				t.Errorf("response %s does not contain %s", toJSON(resp), tc.want)
			}
		})
	}
	t.Run("no secret in responses or logs", func(t *testing.T) {
		if logs := e.logs.String(); strings.Contains(logs, string(secretNew)) || strings.Contains(logs, string(secretOld)) {
			t.Error("a secret appears in the logs")
		}
	})
	t.Run("requests are counted by status", func(t *testing.T) {
		codes := map[string]float64{}
		families, err := e.reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range families {
			if f.GetName() != "alaya_webhook_requests_total" {
				continue
			}
			for _, m := range f.GetMetric() {
				for _, l := range m.GetLabel() {
					if l.GetName() == "code" {
						codes[l.GetValue()] += m.GetCounter().GetValue()
					}
				}
			}
		}
		if codes["202"] != 6 || codes["401"] != 4 || codes["400"] != 2 || codes["413"] != 1 || codes["200"] != 1 {
			t.Errorf("requests by code: %v", codes)
		}
	})
}

// noIDFree returns body with another event id, so that cases do not de-duplicate each other.
func noIDFree(body []byte, id string) []byte {
	return []byte(strings.Replace(string(body), "01HZALAYATESTEVENT0000001", id, 1))
}

func TestPagerDutyHandlerRefusesOtherMethods(t *testing.T) {
	e := newEnv(t, [][]byte{secretNew}, time.Second)
	req, _ := http.NewRequest(http.MethodGet, e.http.URL, nil)
	status, hdr, resp := do(t, e.http.Client(), req)
	if status != 405 || hdr.Get("Allow") != "POST" || resp["error"] == nil {
		t.Errorf("GET: %d Allow=%q %v", status, hdr.Get("Allow"), resp)
	}
}

// A body without Content-Length is cut off at the limit while it streams in.
func TestPagerDutyHandlerCapsChunkedBodies(t *testing.T) {
	e := newEnv(t, [][]byte{secretNew}, time.Second)
	big := io.MultiReader(strings.NewReader(`{"event":{`), strings.NewReader(strings.Repeat(" ", 300<<10)))
	req, _ := http.NewRequest(http.MethodPost, e.http.URL, io.NopCloser(big)) // NopCloser hides the length
	req.Header.Set(webhook.HeaderSignature, "v1=00")
	status, _, _ := do(t, e.http.Client(), req)
	if status != http.StatusRequestEntityTooLarge {
		t.Errorf("status %d, want 413", status)
	}
}

// With NATS gone the receiver must answer 503 in time for PagerDuty to retry, and a retry
// after NATS is back must be accepted, once.
func TestPagerDutyHandlerWhileNATSIsDown(t *testing.T) {
	const timeout = time.Second
	e := newEnv(t, [][]byte{secretNew}, timeout)
	body := fixture(t, "incident.triggered.json")
	e.srv.Shutdown()

	start := time.Now()
	status, hdr, resp := e.post(t, body, sign(secretNew, body))
	if took := time.Since(start); took > timeout+time.Second {
		t.Errorf("503 took %s, want about %s", took, timeout)
	}
	if status != http.StatusServiceUnavailable || hdr.Get("Retry-After") == "" {
		t.Fatalf("with NATS down: %d Retry-After=%q %v", status, hdr.Get("Retry-After"), resp)
	}
	if msg, _ := resp["error"].(string); strings.Contains(msg, "nats") || msg == "" {
		t.Errorf("error %q should be short and not expose internals", msg)
	}
	// Pings do not need the queue.
	ping := fixture(t, "pagey.ping.json")
	if status, _, _ := e.post(t, ping, sign(secretNew, ping)); status != http.StatusOK {
		t.Errorf("ping with NATS down: %d", status)
	}

	e.srv.Restart()
	waitReady(t, e)
	status, _, resp = e.post(t, body, sign(secretNew, body)) // PagerDuty's retry
	if status != http.StatusAccepted {
		t.Fatalf("retry after restart: %d %v", status, resp)
	}
	// The first attempt may have reached the stream after the reconnect; either way, once.
	if n := e.stored(t); n != 1 {
		t.Errorf("%d messages stored, want 1", n)
	}
	// And a worker gets it.
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	got := make(chan string, 2)
	go e.q.Consume(ctx, queue.HandlerFunc(func(_ context.Context, d *queue.Delivery) error {
		got <- d.Event.ID
		return nil
	}))
	select {
	case id := <-got:
		if id != "01HZALAYATESTEVENT0000001" {
			t.Errorf("worker got %s", id)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the accepted event never reached a worker")
	}
}

func waitReady(t *testing.T, e *env) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for e.q.Ready(context.Background()) != nil {
		if time.Now().After(deadline) {
			t.Fatal("queue not ready 10s after restart")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// The publish deadline holds even if the publisher would wait forever.
func TestPagerDutyHandlerPublishDeadline(t *testing.T) {
	stuck := publisherFunc(func(ctx context.Context, _ *incident.Event) (uint64, bool, error) {
		<-ctx.Done()
		return 0, false, ctx.Err()
	})
	h := webhook.NewPagerDutyHandler(webhook.Deps{
		Publisher: stuck, Secrets: func() [][]byte { return [][]byte{secretNew} },
		Verify: verify, Decode: decode, PublishTimeout: 50 * time.Millisecond, Now: fixtureNow,
	})
	body := fixture(t, "incident.triggered.json")
	req := httptestRequest(body, sign(secretNew, body))
	rec := recordServe(h, req)
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" {
		t.Errorf("stuck publisher: %d %q", rec.Code, rec.Body.String())
	}
}

// A decoder error is answered 400 whatever it wraps.
func TestPagerDutyHandlerDecoderErrors(t *testing.T) {
	var published bool
	pub := publisherFunc(func(context.Context, *incident.Event) (uint64, bool, error) { published = true; return 1, false, nil })
	h := webhook.NewPagerDutyHandler(webhook.Deps{
		Publisher: pub, Secrets: func() [][]byte { return [][]byte{secretNew} }, Verify: verify,
		Decode: func([]byte) (*incident.Event, error) { return nil, errors.New("unsupported event version") },
	})
	body := []byte(`{"event":{"id":"x","event_type":"incident.triggered"}}`)
	rec := recordServe(h, httptestRequest(body, sign(secretNew, body)))
	if rec.Code != http.StatusBadRequest || published || !strings.Contains(rec.Body.String(), "unsupported event version") {
		t.Errorf("%d %s published=%v", rec.Code, rec.Body.String(), published)
	}
}
