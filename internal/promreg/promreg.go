// Package promreg registers Prometheus collectors the way every Alaya component needs: the
// registry is injected (never the global one), and a second component in the same process (a
// receiver and a worker in the demo, two handlers in one receiver) shares the series already
// registered under the same name instead of failing.
package promreg

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// Register adds c to reg, or returns the collector already registered under the same name.
// A nil reg leaves c unregistered. A conflicting definition of one of our own metrics is a
// programming error and panics.
func Register[C prometheus.Collector](reg prometheus.Registerer, c C) C {
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
		panic(err)
	}
	return c
}
