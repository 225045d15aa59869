package remediate

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the worker's Prometheus series. Labels are low-cardinality by construction:
// runbook names come from the catalog, kinds and outcomes from fixed sets; incident ids,
// hosts and run ids never become labels.
type Metrics struct {
	runs    *prometheus.CounterVec
	steps   *prometheus.CounterVec
	stepDur *prometheus.HistogramVec
	stage   *prometheus.HistogramVec
	// decisions counts approval outcomes: approved, rejected, expired, cancelled, or the
	// refusal reason (approval.Reason).
	decisions *prometheus.CounterVec
	// gaveUp counts events whose last delivery failed, by what ended with a note: "run" (the
	// run's final note) or "event" (an answer without a run).
	gaveUp *prometheus.CounterVec
}

// NewMetrics registers the worker's metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "alaya_runs_total", Help: "Runbook runs by outcome (ok, partial, failed, duplicate, no_match, storm, resolved, abandoned).",
		}, []string{"runbook", "outcome"}),
		steps: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "alaya_steps_total", Help: "Steps executed on hosts, by step kind and outcome.",
		}, []string{"kind", "outcome"}),
		stepDur: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "alaya_step_duration_seconds", Help: "Time one step took on one host.",
			Buckets: prometheus.ExponentialBuckets(0.01, 2.5, 10),
		}, []string{"kind"}),
		stage: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "alaya_pipeline_stage_seconds", Help: "Time spent in each pipeline stage of a run.",
			Buckets: prometheus.ExponentialBuckets(0.001, 3, 10),
		}, []string{"stage"}),
		decisions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "alaya_approval_decisions_total", Help: "Approval decisions and refusals by outcome or refusal reason.",
		}, []string{"outcome"}),
		gaveUp: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "alaya_events_given_up_total", Help: "Events whose last delivery failed, ended with a note on the run or the event.",
		}, []string{"ended"}),
	}
	reg.MustRegister(m.runs, m.steps, m.stepDur, m.stage, m.decisions, m.gaveUp)
	return m
}
