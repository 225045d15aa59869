package pagerduty

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

// scripted is a RoundTripper that answers with the given statuses in turn.
type scripted struct {
	statuses []int
	bodies   []string
}

func (s *scripted) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		b, _ := io.ReadAll(r.Body)
		s.bodies = append(s.bodies, string(b))
	}
	code := s.statuses[0]
	s.statuses = s.statuses[1:]
	h := http.Header{"Ratelimit-Reset": {"2"}, "Content-Type": {"application/json"}}
	return &http.Response{StatusCode: code, Header: h, Body: io.NopCloser(strings.NewReader("{}")), Request: r}, nil
}

// TestRealWaitsInFakeTime runs the transport with its real timer inside a synctest bubble:
// the waits are exact and cost no wall time.
func TestRealWaitsInFakeTime(t *testing.T) {
	tests := []struct {
		name     string
		statuses []int
		want     time.Duration
	}{
		{"429 waits ratelimit-reset", []int{429, 200}, 2 * time.Second},
		{"two 429s", []int{429, 429, 200}, 4 * time.Second},
		{"500 waits the first back-off", []int{500, 200}, 125 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				next := &scripted{statuses: tt.statuses}
				rt := newRetryTransport(Config{}, nilLogger())
				rt.next, rt.jitter = next, func() float64 { return 0 }
				req, _ := http.NewRequest(http.MethodPost, "http://pd.invalid/incidents/Q1/notes", strings.NewReader(`{"note":{}}`))
				start := time.Now()
				resp, err := rt.RoundTrip(req)
				if err != nil || resp.StatusCode != 200 {
					t.Fatalf("RoundTrip = %v, %v", resp, err)
				}
				resp.Body.Close()
				if got := time.Since(start); got != tt.want {
					t.Errorf("waited %v, want %v", got, tt.want)
				}
				for _, b := range next.bodies {
					if b != `{"note":{}}` {
						t.Errorf("attempt sent body %q, want the original", b)
					}
				}
			})
		})
	}
}

func TestWaitEndsWithContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rt := newRetryTransport(Config{}, nilLogger())
		rt.next = &scripted{statuses: []int{429, 200}}
		ctx, cancel := context.WithCancel(t.Context())
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://pd.invalid/oncalls", nil)
		time.AfterFunc(time.Second, cancel)
		start := time.Now()
		_, err := rt.RoundTrip(req)
		if !errors.Is(err, context.Canceled) || time.Since(start) != time.Second {
			t.Fatalf("err = %v after %v, want context.Canceled after 1s", err, time.Since(start))
		}
	})
}
