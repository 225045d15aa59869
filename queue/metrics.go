package queue

import (
	"errors"

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
		published: register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "alaya_queue_published_total",
			Help: "Events published to JetStream, by result (stored, duplicate, error).",
		}, []string{"result"})),
		publishSeconds: register(reg, prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "alaya_queue_publish_duration_seconds",
			Help:    "Time from publish to the stream's acknowledgement.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 4, 10),
		})),
		consumed: register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "alaya_queue_messages_total",
			Help: "Deliveries settled by the worker, by outcome (ack, retry, term).",
		}, []string{"outcome"})),
		handleSeconds: register(reg, prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "alaya_queue_handle_duration_seconds",
			Help:    "Time a handler took for one delivery, by outcome.",
			Buckets: prometheus.ExponentialBuckets(0.01, 4, 10),
		}, []string{"outcome"})),
		inFlight: register(reg, prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "alaya_queue_handlers_in_flight",
			Help: "Deliveries being handled right now.",
		})),
	}
}

// register adds c to reg, or returns the collector already registered under the same name, so
// that two Queues in one process (a receiver and a worker in the demo) share their series.
// A nil reg leaves the metrics unregistered.
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
