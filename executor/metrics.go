package executor

import (
	"github.com/prometheus/client_golang/prometheus"
)

// WithRegisterer exports the SSH executor's counters (Stats) as Prometheus metrics on reg.
// Labels are the hop role and the command outcome only, never host names.
func WithRegisterer(reg prometheus.Registerer) Option {
	return func(c *config) { c.registerer = reg }
}

var (
	descLogins = prometheus.NewDesc("alaya_executor_ssh_logins_total",
		"SSH connections made and authenticated, by hop role (bastion, target).", []string{"hop"}, nil)
	descDialFailures = prometheus.NewDesc("alaya_executor_ssh_dial_failures_total",
		"SSH connections that could not be made (network, handshake, host key, authentication).", nil, nil)
	descRefusals = prometheus.NewDesc("alaya_executor_ssh_session_refusals_total",
		"Sessions sshd refused for its MaxSessions limit and that were asked for again.", nil, nil)
	descCommands = prometheus.NewDesc("alaya_executor_ssh_commands_total",
		"Commands run over SSH, by outcome (ok means completed, whatever the exit code).", []string{"outcome"}, nil)
)

// collector reads the counters when scraped, so the hot path only increments atomics.
type collector struct{ s *SSH }

func (c collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descLogins, descDialFailures, descRefusals, descCommands} {
		ch <- d
	}
}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	st := c.s.Stats()
	counter := func(d *prometheus.Desc, v int64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	counter(descLogins, st.BastionDials, "bastion")
	counter(descLogins, st.TargetDials, "target")
	counter(descDialFailures, st.DialFailures)
	counter(descRefusals, st.SessionRefusals)
	for _, name := range outcomeNames {
		counter(descCommands, st.Commands[name], name)
	}
}
