package elbv2_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/smithy-go/middleware"

	"github.com/alaya-sre/alaya/actions"
	"github.com/alaya-sre/alaya/actions/elbv2"
	"github.com/alaya-sre/alaya/internal/testenv/elbv2standin"
)

const tg = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/app/0123456789abcdef"

// setup returns a stand-in with one group of three healthy instances and a Balancer using the
// real SDK client against it.
func setup(t *testing.T) (*elbv2standin.Server, *elbv2.Balancer) {
	s := elbv2standin.Start(t)
	s.AddGroup(tg, 8080, "i-0000000000000000a", "i-0000000000000000b", "i-0000000000000000c")
	client := elb.New(elb.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(s.URL),
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", ""),
		APIOptions:   []func(*middleware.Stack) error{awsCalls.Record},
	})
	return s, &elbv2.Balancer{API: client, DrainWait: 5 * time.Second, HealthyWait: 5 * time.Second,
		MinDelay: 20 * time.Millisecond, MaxDelay: 50 * time.Millisecond}
}

func params(id string, min int) actions.LBParams {
	return actions.LBParams{Member: actions.Member{Pool: tg, Name: id}, MinHealthy: min}
}

func TestDeregisterWaitsForDrainingRegisterWaitsForHealthy(t *testing.T) {
	s, b := setup(t)
	s.DrainDelay, s.HealthyDelay = 400*time.Millisecond, 400*time.Millisecond
	ctx := t.Context()
	start := time.Now()
	o, err := actions.LBDetach(ctx, b, "app-2", params("i-0000000000000000b", 2))
	if err != nil || !o.OK || !o.StillDetached {
		t.Fatalf("detach: %v %+v", err, o)
	}
	if took := time.Since(start); took < s.DrainDelay {
		t.Fatalf("detach returned after %s, before draining (%s) finished", took, s.DrainDelay)
	}
	if healthy, _ := actions.Healthy(ctx, b, tg); slices.Contains(healthy, "i-0000000000000000b") || len(healthy) != 2 {
		t.Fatalf("healthy after detach: %v", healthy)
	}

	start = time.Now()
	a, err := actions.LBAttach(ctx, b, "app-2", params("i-0000000000000000b", 2))
	if err != nil || !a.OK || a.StillDetached {
		t.Fatalf("attach: %v %+v", err, a)
	}
	if took := time.Since(start); took < s.HealthyDelay {
		t.Fatalf("attach returned after %s, before the target was healthy (%s)", took, s.HealthyDelay)
	}
	if healthy, _ := actions.Healthy(ctx, b, tg); len(healthy) != 3 {
		t.Fatalf("healthy after attach: %v", healthy)
	}
	t.Logf("%s | %s\n%s | %s", o.Summary, o.Detail, a.Summary, a.Detail)
}

func TestCapacityGuard(t *testing.T) {
	s, b := setup(t)
	s.SetState(tg, "i-0000000000000000a", "unhealthy")
	o, err := actions.LBDetach(t.Context(), b, "app-3", params("i-0000000000000000c", 2))
	want := "refusing to detach app-3 (i-0000000000000000c): 1 of 3 would remain healthy, runbook requires 2"
	if !errors.Is(err, actions.ErrRefused) || o.Summary != want || o.StillDetached {
		t.Fatalf("got %v %q, want refusal %q", err, o.Summary, want)
	}
	if calls := s.Calls(); slices.Contains(calls, "DeregisterTargets") {
		t.Fatalf("refused detach still called the API: %v", calls)
	}
}

func TestDrainingThatNeverEndsLeavesHostDetached(t *testing.T) {
	s, b := setup(t)
	b.DrainWait = 300 * time.Millisecond
	s.DrainDelay = time.Hour
	o, err := actions.LBDetach(t.Context(), b, "app-1", params("i-0000000000000000a", 1))
	if !errors.Is(err, actions.ErrTimeout) || o.OK || !o.StillDetached {
		t.Fatalf("want timeout with StillDetached, got %v %+v", err, o)
	}
	left := actions.StillDetached([]actions.Outcome{o})
	if len(left) != 1 {
		t.Fatalf("StillDetached = %+v", left)
	}
	t.Log(actions.DetachedLine(left[0]))
}

func TestUnhealthyAfterRegisterIsStillDetached(t *testing.T) {
	s, b := setup(t)
	b.HealthyWait = 300 * time.Millisecond
	s.HealthyDelay = time.Hour
	o, err := actions.LBAttach(t.Context(), b, "app-4", params("i-0000000000000000d", 1))
	if !errors.Is(err, actions.ErrTimeout) || !o.StillDetached {
		t.Fatalf("want timeout with StillDetached, got %v %+v", err, o)
	}
}

func TestUnknownTargetGroupIsPermanent(t *testing.T) {
	_, b := setup(t)
	p := params("i-0000000000000000a", 1)
	p.Member.Pool = tg + "-missing"
	_, err := actions.LBDetach(t.Context(), b, "app-1", p)
	if !errors.Is(err, actions.ErrNotFound) || actions.IsRetryable(err) {
		t.Fatalf("got %v", err)
	}
}
