// Package elbv2 takes targets out of an AWS Elastic Load Balancing v2 target group and puts
// them back, through aws-sdk-go-v2. It is an actions.Balancer.
//
// Detach deregisters the target and waits until AWS reports it unused, which is when
// connection draining (the group's deregistration delay) has ended; attach registers it and
// waits until it is healthy. The waits use the SDK's own waiters (TargetDeregistered,
// TargetInService), bounded by the caller's context and by DrainWait/HealthyWait.
package elbv2

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/smithy-go"

	"github.com/alaya-sre/alaya/actions"
)

// API is the part of the ELBv2 client this package uses; *elasticloadbalancingv2.Client
// implements it.
type API interface {
	RegisterTargets(ctx context.Context, in *elb.RegisterTargetsInput, opts ...func(*elb.Options)) (*elb.RegisterTargetsOutput, error)
	DeregisterTargets(ctx context.Context, in *elb.DeregisterTargetsInput, opts ...func(*elb.Options)) (*elb.DeregisterTargetsOutput, error)
	elb.DescribeTargetHealthAPIClient
}

// Balancer detaches and attaches targets of ELBv2 target groups.
type Balancer struct {
	API API
	// DrainWait bounds the wait for draining to finish when the step gives no wait (default
	// 6m: AWS's default deregistration delay is 300s).
	DrainWait time.Duration
	// HealthyWait bounds the wait for a registered target to be healthy (default 5m).
	HealthyWait time.Duration
	// MinDelay and MaxDelay are the waiters' polling back-off (defaults 5s and 30s).
	MinDelay, MaxDelay time.Duration
}

var _ actions.Balancer = (*Balancer)(nil)

// Members lists the target group's registered targets and their health.
func (b *Balancer) Members(ctx context.Context, pool string) ([]actions.MemberState, error) {
	out, err := b.API.DescribeTargetHealth(ctx, &elb.DescribeTargetHealthInput{TargetGroupArn: aws.String(pool)})
	if err != nil {
		return nil, classify("elbv2 DescribeTargetHealth", err)
	}
	var ms []actions.MemberState
	for _, d := range out.TargetHealthDescriptions {
		state := ""
		if d.TargetHealth != nil {
			state = string(d.TargetHealth.State)
		}
		ms = append(ms, actions.MemberState{Name: aws.ToString(d.Target.Id), Port: int(aws.ToInt32(d.Target.Port)),
			Healthy: state == string(types.TargetHealthStateEnumHealthy), State: state, Sessions: -1})
	}
	return ms, nil
}

// Detach deregisters m and waits until draining has finished.
func (b *Balancer) Detach(ctx context.Context, m actions.Member, wait time.Duration) (string, error) {
	start := time.Now()
	_, err := b.API.DeregisterTargets(ctx, &elb.DeregisterTargetsInput{TargetGroupArn: aws.String(m.Pool), Targets: targets(m)})
	if err != nil {
		return "", classify("elbv2 DeregisterTargets", err)
	}
	w := elb.NewTargetDeregisteredWaiter(b.API, func(o *elb.TargetDeregisteredWaiterOptions) {
		o.MinDelay, o.MaxDelay = b.delays()
	})
	limit := orDefault(wait, orDefault(b.DrainWait, 6*time.Minute))
	if err := w.Wait(ctx, b.describe(m), limit); err != nil {
		return "deregistered; draining not finished", waitError(ctx, "draining", m, limit, err)
	}
	return fmt.Sprintf("deregistered; draining finished after %s", time.Since(start).Round(time.Millisecond)), nil
}

// Attach registers m and waits until it is healthy.
func (b *Balancer) Attach(ctx context.Context, m actions.Member, wait time.Duration) (string, error) {
	start := time.Now()
	_, err := b.API.RegisterTargets(ctx, &elb.RegisterTargetsInput{TargetGroupArn: aws.String(m.Pool), Targets: targets(m)})
	if err != nil {
		return "", classify("elbv2 RegisterTargets", err)
	}
	w := elb.NewTargetInServiceWaiter(b.API, func(o *elb.TargetInServiceWaiterOptions) {
		o.MinDelay, o.MaxDelay = b.delays()
	})
	limit := orDefault(wait, orDefault(b.HealthyWait, 5*time.Minute))
	if err := w.Wait(ctx, b.describe(m), limit); err != nil {
		return "registered; not healthy", waitError(ctx, "healthy", m, limit, err)
	}
	return fmt.Sprintf("registered; healthy after %s", time.Since(start).Round(time.Millisecond)), nil
}

func (b *Balancer) describe(m actions.Member) *elb.DescribeTargetHealthInput {
	return &elb.DescribeTargetHealthInput{TargetGroupArn: aws.String(m.Pool), Targets: targets(m)}
}

func (b *Balancer) delays() (time.Duration, time.Duration) {
	lo, hi := orDefault(b.MinDelay, 5*time.Second), orDefault(b.MaxDelay, 30*time.Second)
	return lo, max(lo, hi)
}

func targets(m actions.Member) []types.TargetDescription {
	t := types.TargetDescription{Id: aws.String(m.Name)}
	if m.Port != 0 {
		t.Port = aws.Int32(int32(m.Port))
	}
	return []types.TargetDescription{t}
}

// waitError classifies a waiter's failure: an API error keeps its own class, running out of
// time (the waiter's limit or the caller's) is ErrTimeout.
func waitError(ctx context.Context, what string, m actions.Member, limit time.Duration, err error) error {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		return classify("elbv2 wait for "+what, err)
	}
	if ctx.Err() != nil {
		return actions.Retryable("elbv2 wait for "+what, fmt.Errorf("%s in %s: %w", m, m.Pool, ctx.Err()))
	}
	return actions.Retryable("elbv2 wait for "+what, fmt.Errorf("%s in %s not %s within %s: %v: %w", m, m.Pool, what, limit, err, actions.ErrTimeout))
}

// classify sorts SDK errors: server faults and throttling are retryable, other API errors
// (no such group, invalid target, validation) are permanent, transport errors retryable.
func classify(op string, err error) error {
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) {
		return actions.Retryable(op, err)
	}
	switch code := apiErr.ErrorCode(); {
	case code == "TargetGroupNotFound" || code == "InvalidTarget":
		return actions.Permanent(op, fmt.Errorf("%w: %w", err, actions.ErrNotFound))
	case apiErr.ErrorFault() == smithy.FaultServer || code == "Throttling" || code == "ThrottlingException":
		return actions.Retryable(op, err)
	}
	return actions.Permanent(op, err)
}

func orDefault(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}
