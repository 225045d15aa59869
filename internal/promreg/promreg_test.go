package promreg

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

func TestRegisterSharesExistingSeries(t *testing.T) {
	reg := prometheus.NewRegistry()
	opts := prometheus.CounterOpts{Name: "alaya_test_total", Help: "test"}
	a := Register(reg, prometheus.NewCounter(opts))
	b := Register(reg, prometheus.NewCounter(opts))
	a.Inc()
	b.Inc()
	if a != b {
		t.Fatal("second registration did not return the first collector")
	}
	if n := Register[prometheus.Counter](nil, prometheus.NewCounter(opts)); n == nil {
		t.Fatal("nil registry returned nil")
	}
	defer func() {
		if recover() == nil {
			t.Error("a conflicting definition did not panic")
		}
	}()
	Register(reg, prometheus.NewGauge(prometheus.GaugeOpts{Name: "alaya_test_total", Help: "other"}))
}
