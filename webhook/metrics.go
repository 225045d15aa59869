package webhook

import (
	"github.com/alaya-sre/alaya/internal/promreg"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the receiver's series; labels are the source and the status code, never ids.
type metrics struct {
	requests       *prometheus.CounterVec
	publishSeconds *prometheus.HistogramVec
	refused        *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	return &metrics{
		requests: promreg.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "alaya_webhook_requests_total",
			Help: "Webhook requests answered, by source and HTTP status code.",
		}, []string{"source", "code"})),
		publishSeconds: promreg.Register(reg, prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "alaya_webhook_publish_duration_seconds",
			Help:    "Time from a verified webhook to JetStream's acknowledgement (or failure).",
			Buckets: prometheus.ExponentialBuckets(0.0001, 4, 10),
		}, []string{"source"})),
		refused: promreg.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "alaya_webhook_refused_total",
			Help: "Webhooks refused for their time (stale: older than the replay window or without a time; future) or because too many were in flight (busy).",
		}, []string{"source", "reason"})),
	}
}
