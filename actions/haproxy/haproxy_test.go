package haproxy_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/alaya-sre/alaya/actions"
	"github.com/alaya-sre/alaya/actions/haproxy"
	thaproxy "github.com/alaya-sre/alaya/internal/testenv/haproxy"
)

func newBalancer(p *thaproxy.Proxy) *haproxy.Balancer {
	return &haproxy.Balancer{Client: &haproxy.Client{Dial: haproxy.Local(p.Socket)},
		DrainTimeout: 2 * time.Second, HealthyTimeout: 5 * time.Second, Poll: 20 * time.Millisecond}
}

func TestDetachStopsTrafficAttachBringsItBack(t *testing.T) {
	p := thaproxy.Start(t, 3)
	b := newBalancer(p)
	ctx := t.Context()
	if hits := p.Hits(ctx, t, 30); hits["app-2"] == 0 {
		t.Fatalf("before detach app-2 got no traffic: %v", hits)
	}
	params := actions.LBParams{Member: actions.Member{Pool: "app", Name: "app-2"}, MinHealthy: 2}

	o, err := actions.LBDetach(ctx, b, "app-2", params)
	if err != nil || !o.OK || !o.StillDetached {
		t.Fatalf("detach: %v %+v", err, o)
	}
	if hits := p.Hits(ctx, t, 60); hits["app-2"] != 0 || hits["app-1"] == 0 || hits["app-3"] == 0 {
		t.Fatalf("after detach traffic still reaches app-2 or others starve: %v", hits)
	}
	if st := p.Command(t, "show stat app 4 -1"); !strings.Contains(st, "app,app-2,") || !strings.Contains(st, "MAINT") {
		t.Fatalf("app-2 not in MAINT:\n%s", st)
	}

	a, err := actions.LBAttach(ctx, b, "app-2", params)
	if err != nil || !a.OK || a.StillDetached {
		t.Fatalf("attach: %v %+v", err, a)
	}
	if hits := p.Hits(ctx, t, 30); hits["app-2"] == 0 {
		t.Fatalf("after attach app-2 gets no traffic: %v", hits)
	}
	if left := actions.StillDetached([]actions.Outcome{o, a}); len(left) != 0 {
		t.Fatalf("still detached after attach: %+v", left)
	}
	t.Logf("detach: %s | %s", o.Summary, o.Detail)
	t.Logf("attach: %s | %s", a.Summary, a.Detail)
}

func TestCapacityGuardRefusesWithoutTouching(t *testing.T) {
	p := thaproxy.Start(t, 3)
	b := newBalancer(p)
	before := p.Command(t, "show servers state app")
	params := actions.LBParams{Member: actions.Member{Pool: "app", Name: "app-3"}, MinHealthy: 3}

	o, err := actions.LBDetach(t.Context(), b, "app-3", params)
	if !errors.Is(err, actions.ErrRefused) || actions.IsRetryable(err) {
		t.Fatalf("want permanent refusal, got %v", err)
	}
	want := "refusing to detach app-3: 2 of 3 would remain healthy, runbook requires 3"
	if o.Summary != want || o.OK || o.StillDetached {
		t.Fatalf("outcome %+v, want summary %q", o, want)
	}
	if after := p.Command(t, "show servers state app"); after != before {
		t.Fatalf("state changed by a refused detach:\nbefore %s\nafter %s", before, after)
	}
}

func TestErrorsAreRepliesNotSocketFailures(t *testing.T) {
	p := thaproxy.Start(t, 2)
	c := &haproxy.Client{Dial: haproxy.Local(p.Socket)}
	tests := []struct {
		name            string
		backend, server string
		want            error
	}{
		{"no such server", "app", "app-9", actions.ErrNotFound},
		{"no such backend", "nope", "app-1", actions.ErrNotFound},
		{"separator in name", "app", "app-1;shutdown", actions.ErrRefused},
		{"space in name", "app", "app-1 state maint", actions.ErrRefused},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := c.SetState(t.Context(), tt.backend, tt.server, "maint")
			if !errors.Is(err, tt.want) || actions.IsRetryable(err) {
				t.Fatalf("got %v, want permanent %v", err, tt.want)
			}
		})
	}
	b := newBalancer(p)
	_, err := actions.LBDetach(t.Context(), b, "x", actions.LBParams{Member: actions.Member{Pool: "app", Name: "app-9"}})
	if !errors.Is(err, actions.ErrNotFound) {
		t.Fatalf("detach of unknown member: %v", err)
	}
}

func TestDetachWaitsForSessionsThenMaint(t *testing.T) {
	tests := []struct {
		name       string
		releaseIn  time.Duration
		wait       time.Duration
		wantDetail string
	}{
		{"sessions end within the wait", 300 * time.Millisecond, 5 * time.Second, "drained in"},
		{"sessions outlive the wait", time.Hour, 300 * time.Millisecond, "drain timed out after"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := thaproxy.Start(t, 2)
			p.Hold(t, 2) // round robin: one open session on each server
			if p.HeldOn("app-1") != 1 {
				t.Fatalf("held sessions not spread: app-1 %d, app-2 %d", p.HeldOn("app-1"), p.HeldOn("app-2"))
			}
			time.AfterFunc(tt.releaseIn, p.Release)
			start := time.Now()
			params := actions.LBParams{Member: actions.Member{Pool: "app", Name: "app-1"}, MinHealthy: 1, Wait: tt.wait}
			o, err := actions.LBDetach(t.Context(), newBalancer(p), "app-1", params)
			if err != nil || !strings.Contains(o.Detail, tt.wantDetail) || !strings.Contains(o.Detail, "now MAINT") {
				t.Fatalf("detach: %v\n%s", err, o.Detail)
			}
			if took := time.Since(start); took < min(tt.releaseIn, tt.wait) {
				t.Fatalf("detach returned after %s without waiting for the session", took)
			}
			if st := p.Command(t, "show stat app 4 -1"); !strings.Contains(st, "MAINT") {
				t.Fatalf("not in MAINT:\n%s", st)
			}
			t.Log(o.Detail)
		})
	}
}
