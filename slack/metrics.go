package slack

import (
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/alaya-sre/alaya/internal/promreg"
)

type metrics struct {
	calls    *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	return &metrics{
		calls: promreg.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "alaya_slack_calls_total",
			Help: "Slack Web API calls by method and outcome (ok, ratelimited, transient, permanent).",
		}, []string{"method", "outcome"})),
		duration: promreg.Register(reg, prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "alaya_slack_call_duration_seconds",
			Help:    "Time of Slack Web API calls, including the wait for the channel's rate limit.",
			Buckets: []float64{.05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"method"})),
	}
}

func (m *metrics) observe(method string, err error, d time.Duration) {
	m.calls.WithLabelValues(method, outcome(err)).Inc()
	m.duration.WithLabelValues(method).Observe(d.Seconds())
}

// outcome is err's label: the classes callers act on.
func outcome(err error) string {
	var rl *RateLimitedError
	switch {
	case err == nil:
		return "ok"
	case errors.As(err, &rl):
		return "ratelimited"
	case Temporary(err):
		return "transient"
	}
	return "permanent"
}
