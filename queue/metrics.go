package queue

import (
	"github.com/alaya-sre/alaya/internal/promreg"

	"github.com/prometheus/client_golang/prometheus"
)

// Outcomes of a delivery, as metric label values.
const (
	outcomeAck   = "ack"
	outcomeRetry = "retry"
	outcomeTerm  = "term"
)

// metrics are the queue's Prometheus series. Labels are of low cardinality by design: never an
// incident or event id.
type metrics struct {
	published      *prometheus.CounterVec
	publishSeconds prometheus.Histogram
	consumed       *prometheus.CounterVec
	handleSeconds  *prometheus.HistogramVec
	inFlight       prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer) *metrics {
	return &metrics{
		published: promreg.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "alaya_queue_published_total",
			Help: "Events published to JetStream, by result (stored, duplicate, error).",
		}, []string{"result"})),
		publishSeconds: promreg.Register(reg, prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "alaya_queue_publish_duration_seconds",
			Help:    "Time from publish to the stream's acknowledgement.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 4, 10),
		})),
		consumed: promreg.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "alaya_queue_messages_total",
			Help: "Deliveries settled by the worker, by outcome (ack, retry, term).",
		}, []string{"outcome"})),
		handleSeconds: promreg.Register(reg, prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "alaya_queue_handle_duration_seconds",
			Help:    "Time a handler took for one delivery, by outcome.",
			Buckets: prometheus.ExponentialBuckets(0.01, 4, 10),
		}, []string{"outcome"})),
		inFlight: promreg.Register(reg, prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "alaya_queue_handlers_in_flight",
			Help: "Deliveries being handled right now.",
		})),
	}
}
