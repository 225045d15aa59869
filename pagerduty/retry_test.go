package pagerduty_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/alaya-sre/alaya/internal/pdstandin"
	"github.com/alaya-sre/alaya/pagerduty"
)

func TestRetryPolicy(t *testing.T) {
	// With jitter fixed at 0.5, attempt n waits 3/4 of min(250ms*2^n, 8s).
	backoff := []time.Duration{187500 * time.Microsecond, 375 * time.Millisecond, 750 * time.Millisecond, 1500 * time.Millisecond}
	tests := []struct {
		name      string
		status    int
		failures  int
		wantErr   int // HTTP status of the final error; 0 for success
		wantWaits []time.Duration
	}{
		{"429 waits for ratelimit-reset", http.StatusTooManyRequests, 2, 0, []time.Duration{time.Second, time.Second}},
		{"500s back off then succeed", http.StatusInternalServerError, 3, 0, backoff[:3]},
		{"dropped connection is retried", 0, 1, 0, backoff[:1]},
		{"503 beyond MaxRetries gives up", http.StatusServiceUnavailable, 5, 503, backoff},
		{"429 beyond MaxRetries gives up", http.StatusTooManyRequests, 5, 429, []time.Duration{time.Second, time.Second, time.Second, time.Second}},
		{"400 is final", http.StatusBadRequest, 1, 400, nil},
		{"403 is final", http.StatusForbidden, 1, 403, nil},
		{"404 is final", http.StatusNotFound, 1, 404, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			id := f.addIncident(t)
			path := "/incidents/" + id + "/notes"
			f.pd.FailNext(path, tt.status, tt.failures)

			_, err := f.client.AddNote(testContext(t), id, "note")

			checkFinal(t, err, tt.wantErr)
			if got := f.recordedWaits(); !equalDurations(got, tt.wantWaits) {
				t.Errorf("waits = %v, want %v", got, tt.wantWaits)
			}
			wantReqs := len(tt.wantWaits) + 1
			if n := f.requestsTo(path); n != wantReqs {
				t.Errorf("%d requests, want %d", n, wantReqs)
			}
			wantNotes := 0
			if tt.wantErr == 0 {
				wantNotes = 1
			}
			if n := len(f.pd.Notes(id)); n != wantNotes {
				t.Errorf("%d notes stored, want %d (a replayed request must carry its body)", n, wantNotes)
			}
		})
	}
}

func checkFinal(t *testing.T, err error, wantStatus int) {
	t.Helper()
	if wantStatus == 0 {
		if err != nil {
			t.Fatalf("err = %v, want success", err)
		}
		return
	}
	var pe *pagerduty.Error
	if !errors.As(err, &pe) || pe.Status != wantStatus {
		t.Fatalf("err = %v, want *pagerduty.Error with status %d", err, wantStatus)
	}
	want := wantStatus == 429 || wantStatus >= 500
	if got := pagerduty.Retryable(err); got != want {
		t.Errorf("Retryable = %v, want %v", got, want)
	}
}

func equalDurations(a, b []time.Duration) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestRateLimitWaitIsCapped(t *testing.T) {
	f := newFixtureWith(t, []pdstandin.Option{pdstandin.WithRateLimitReset(120)},
		func(c *pagerduty.Config) { c.MaxRateWait = 3 * time.Second })
	id := f.addIncident(t)
	f.pd.FailNext("/incidents/"+id, http.StatusTooManyRequests, 1)
	_, err := f.client.Incident(testContext(t), id)
	if err != nil {
		t.Fatalf("Incident: %v", err)
	}
	if got := f.recordedWaits(); len(got) != 1 || got[0] != 3*time.Second {
		t.Fatalf("waits = %v, want one wait of the 3s cap, not the announced 120s", got)
	}
}

func TestRateLimitBeyondDeadlineReturnsTheAnswer(t *testing.T) {
	f := newFixture(t)
	id := f.addIncident(t)
	f.pd.FailNext("/incidents/"+id, http.StatusTooManyRequests, 1)
	// ratelimit-reset is 1s; a caller with less time left gets the 429, not a wait.
	ctx, cancel := context.WithTimeout(testContext(t), 500*time.Millisecond)
	defer cancel()

	_, err := f.client.Incident(ctx, id)

	var pe *pagerduty.Error
	if !errors.As(err, &pe) || pe.Status != http.StatusTooManyRequests || !pagerduty.Retryable(err) {
		t.Fatalf("err = %v, want a retryable 429", err)
	}
	if got := f.recordedWaits(); len(got) != 0 {
		t.Errorf("waits = %v, want none", got)
	}
}

func TestContextEndsTheWait(t *testing.T) {
	f := newFixture(t)
	id := f.addIncident(t)
	f.pd.FailNext("/incidents/"+id, http.StatusInternalServerError, 1)
	ctx, cancel := context.WithCancel(testContext(t))
	pagerduty.SetSleep(f.client, func(context.Context, time.Duration) error {
		cancel() // the worker shuts down while the client waits to retry
		return context.Canceled
	})

	_, err := f.client.Incident(ctx, id)

	if !errors.Is(err, context.Canceled) || !pagerduty.Retryable(err) {
		t.Fatalf("err = %v, want context.Canceled, retryable (the work was not done)", err)
	}
}

func TestNetworkFailureIsRetryable(t *testing.T) {
	f := newFixture(t, func(c *pagerduty.Config) { c.MaxRetries = 2 })
	id := f.addIncident(t)
	f.pd.FailNext("*", 0, 3)

	_, err := f.client.Alerts(testContext(t), id)

	var pe *pagerduty.Error
	if !errors.As(err, &pe) || pe.Status != 0 || pe.Err == nil || !pagerduty.Retryable(err) {
		t.Fatalf("err = %#v, want a retryable error without status carrying the cause", err)
	}
	if got := len(f.recordedWaits()); got != 2 {
		t.Errorf("%d waits, want 2 (MaxRetries)", got)
	}
}

func TestRetriesDisabled(t *testing.T) {
	f := newFixture(t, func(c *pagerduty.Config) { c.MaxRetries = -1 })
	id := f.addIncident(t)
	f.pd.FailNext("/incidents/"+id, http.StatusBadGateway, 1)
	_, err := f.client.Incident(testContext(t), id)
	checkFinal(t, err, http.StatusBadGateway)
	if n := f.requestsTo("/incidents/" + id); n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
}
