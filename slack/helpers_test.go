package slack_test

import (
	"bytes"
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/alaya-sre/alaya/internal/slackstandin"
	"github.com/alaya-sre/alaya/slack"
)

// syncBuffer is a log destination safe for the client's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// newClient returns a client of the stand-in, its debug log, and its registry. Messages are
// not spaced unless a test asks (cfg.ChannelInterval).
func newClient(t *testing.T, sl *slackstandin.Server, edit func(*slack.Config)) (*slack.Client, *syncBuffer, *prometheus.Registry) {
	t.Helper()
	cfg := slack.Config{Token: slack.Token(sl.Token()), APIURL: sl.URL(), ResponseURLHosts: []string{sl.ResponseOrigin()},
		ChannelInterval: -1, UserAgent: "alaya-test"}
	if edit != nil {
		edit(&cfg)
	}
	logs := &syncBuffer{}
	reg := prometheus.NewRegistry()
	c, err := slack.New(cfg, slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})), reg)
	if err != nil {
		t.Fatal(err)
	}
	return c, logs, reg
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// callOutcomes lists the outcome label of every alaya_slack_calls_total series.
func callOutcomes(t *testing.T, reg *prometheus.Registry) []string {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, mf := range mfs {
		if mf.GetName() != "alaya_slack_calls_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "outcome" {
					out = append(out, l.GetValue())
				}
			}
		}
	}
	return out
}

func outcomeOf(temporary bool, retryAfter time.Duration) string {
	switch {
	case retryAfter > 0:
		return "ratelimited"
	case temporary:
		return "transient"
	}
	return "permanent"
}
