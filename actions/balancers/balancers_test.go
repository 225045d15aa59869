package balancers_test

import (
	"errors"
	"testing"

	"github.com/alaya-sre/alaya/actions"
	"github.com/alaya-sre/alaya/actions/balancers"
	"github.com/alaya-sre/alaya/executor"
	thaproxy "github.com/alaya-sre/alaya/internal/testenv/haproxy"
	"github.com/alaya-sre/alaya/inventory"
)

func deps() balancers.Deps {
	inv := &inventory.Inventory{Hosts: map[string]*inventory.Host{
		"lb-1": {Endpoint: inventory.Endpoint{Name: "lb-1"}, Transport: inventory.TransportLocal},
	}}
	return balancers.Deps{Hosts: inv, Dialer: executor.NewLocal()}
}

// The parameters exactly as the runbook language renders them for a haproxy step.
func TestHAProxyStepFromRunbookParams(t *testing.T) {
	p := thaproxy.Start(t, 2)
	params := map[string]string{"provider": "haproxy", "lb_host": "lb-1", "socket": p.Socket,
		"backend": "app", "server": "app-2", "min_healthy": "1", "wait": "5s"}
	o, err := balancers.Detach(t.Context(), deps(), "app-2", params)
	if err != nil || !o.OK {
		t.Fatalf("detach: %v %+v", err, o)
	}
	if hits := p.Hits(t.Context(), t, 20); hits["app-2"] != 0 {
		t.Fatalf("app-2 still gets traffic: %v", hits)
	}
	delete(params, "min_healthy")
	if o, err := balancers.Attach(t.Context(), deps(), "app-2", params); err != nil || !o.OK {
		t.Fatalf("attach: %v %+v", err, o)
	}
}

func TestRefusedBeforeAnything(t *testing.T) {
	tests := []struct {
		name   string
		params map[string]string
		want   error
	}{
		{"unknown provider", map[string]string{"provider": "f5"}, actions.ErrRefused},
		{"lb_host not in inventory", map[string]string{"provider": "haproxy", "lb_host": "nope", "backend": "b"}, inventory.ErrUnknownHost},
		{"no elbv2 client", map[string]string{"provider": "elbv2", "target_group_arn": "arn:x"}, actions.ErrRefused},
		{"no backend", map[string]string{"provider": "haproxy", "lb_host": "lb-1"}, actions.ErrRefused},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := balancers.Detach(t.Context(), deps(), "app-1", tt.params)
			if !errors.Is(err, tt.want) || actions.IsRetryable(err) || o.OK || o.StillDetached {
				t.Fatalf("got %v %+v", err, o)
			}
		})
	}
}
