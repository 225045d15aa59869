package outbox

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/alaya-sre/alaya/incident"
	"github.com/alaya-sre/alaya/internal/pdstandin"
	"github.com/alaya-sre/alaya/pagerduty"
)

// Two workers sweep one outbox while the PagerDuty stand-in answers 429 (with
// ratelimit-reset) or 5xx for a while, as PagerDuty does during a rate-limit storm or an
// outage. The client retries inside one call for longer than a claim lasts; the note must
// still be posted exactly once. Claims are scaled down from minutes to seconds.
func TestTwoWorkersPostANoteOnceThroughPagerDutyFailures(t *testing.T) {
	for _, tc := range []struct {
		name         string
		status       int
		claim, storm time.Duration
	}{
		// Each 429 makes the client wait ratelimit-reset (1 s) before trying again.
		{"429 with ratelimit-reset", http.StatusTooManyRequests, 2 * time.Second, 3 * time.Second},
		// 5xx are retried after 125 ms, 250 ms, 500 ms, 1 s (at least): about 1.9 s in all.
		{"503", http.StatusServiceUnavailable, time.Second, 2 * time.Second},
		// A connection dropped without an answer is retried like a 5xx.
		{"no answer", 0, time.Second, 2 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pd := pdstandin.New(pdstandin.WithRateLimitReset(1))
			srv := httptest.NewServer(pd)
			defer srv.Close()
			pd.AddUser("PBOT001", "Alaya", "alaya@example.com")
			inc := pd.AddIncident(incident.Incident{Title: "disk full"})
			kv := outboxKV(t)
			ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
			defer cancel()

			var workers []*Outbox
			for range 2 {
				client, err := pagerduty.New(pagerduty.Config{Token: "t", APIURL: srv.URL, From: "alaya@example.com"}, slog.New(slog.NewTextHandler(t.Output(), nil)))
				if err != nil {
					t.Fatal(err)
				}
				o := New(kv, client, slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug})), NewMetrics(prometheus.NewRegistry()))
				o.claim = tc.claim
				workers = append(workers, o)
			}
			if err := workers[0].Enqueue(ctx, "r1", inc, "Alaya · diag · 1/1 hosts ok"); err != nil {
				t.Fatal(err)
			}
			pd.FailFor("/incidents/"+inc+"/notes", tc.status, tc.storm)
			sweeping, stop := context.WithCancel(ctx)
			done := make(chan struct{})
			go func() { workers[1].Run(sweeping, 100*time.Millisecond); close(done) }()
			_ = workers[0].Deliver(ctx, "r1") // the first worker is in the storm first
			go workers[0].Run(sweeping, 100*time.Millisecond)
			waitGone(t, ctx, kv, noteKey("r1"))
			stop()
			<-done
			if n := len(pd.Notes(inc)); n != 1 {
				t.Fatalf("the note was posted %d times", n)
			}
		})
	}
}

// waitGone polls until key has left the bucket: the outbox announces nothing.
func waitGone(t *testing.T, ctx context.Context, kv Store, key string) {
	t.Helper()
	for {
		if _, err := kv.Get(ctx, key); errors.Is(err, jetstream.ErrKeyNotFound) {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s still there: %v", key, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}
