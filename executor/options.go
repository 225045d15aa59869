package executor

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Option tunes an executor.
type Option func(*config)

type config struct {
	keepalive  time.Duration // 0 disables keepalives
	killGrace  time.Duration
	registerer prometheus.Registerer
}

func newConfig(opts []Option) config {
	c := config{keepalive: 30 * time.Second, killGrace: 2 * time.Second}
	for _, o := range opts {
		o(&c)
	}
	return c
}

// WithKeepalive sets how often idle pooled connections are probed with keepalive@openssh.com,
// so that a connection a firewall silently dropped is noticed and re-dialled before a command
// needs it. Zero disables the probes; broken connections are then found when used.
func WithKeepalive(every time.Duration) Option {
	return func(c *config) { c.keepalive = every }
}

// WithKillGrace bounds how long a timed-out command is waited for after it was killed and
// its session closed, before its Result is returned anyway.
func WithKillGrace(d time.Duration) Option {
	return func(c *config) { c.killGrace = d }
}
