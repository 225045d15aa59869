package webhook

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the receiver's series; labels are the source and the status code, never ids.
type metrics struct {
	requests       *prometheus.CounterVec
	publishSeconds *prometheus.HistogramVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	return &metrics{
		requests: register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "alaya_webhook_requests_total",
			Help: "Webhook requests answered, by source and HTTP status code.",
		}, []string{"source", "code"})),
		publishSeconds: register(reg, prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "alaya_webhook_publish_duration_seconds",
			Help:    "Time from a verified webhook to JetStream's acknowledgement (or failure).",
			Buckets: prometheus.ExponentialBuckets(0.0001, 4, 10),
		}, []string{"source"})),
	}
}

// register adds c to reg, or returns the collector already registered under the same name, so
// that the PagerDuty and Alertmanager handlers share their series. A nil reg leaves the metrics
// unregistered.
func register[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	if reg == nil {
		return c
	}
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing
			}
		}
		panic(err) // a conflicting definition of our own metric is a programming error
	}
	return c
}
