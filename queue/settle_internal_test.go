package queue

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
)

func TestDecide(t *testing.T) {
	q := &Queue{cfg: Config{MaxDeliver: 5, BackOff: []time.Duration{time.Second, time.Minute}}.withDefaults()}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	boom := errors.New("boom")
	for _, tc := range []struct {
		name      string
		ctx       context.Context
		err       error
		delivered uint64
		want      verdict
	}{
		{"success acks", context.Background(), nil, 1, verdict{outcome: outcomeAck}},
		{"plain error retries with first back-off", context.Background(), boom, 1, verdict{outcome: outcomeRetry, delay: time.Second}},
		{"back-off follows the delivery count", context.Background(), Retry(boom), 2, verdict{outcome: outcomeRetry, delay: time.Minute}},
		{"last back-off repeats", context.Background(), Retry(boom), 4, verdict{outcome: outcomeRetry, delay: time.Minute}},
		{"retry-after overrides back-off", context.Background(), RetryAfter(boom, 7*time.Second), 1, verdict{outcome: outcomeRetry, delay: 7 * time.Second}},
		{"wrapped retry-after still counts", context.Background(), fmt.Errorf("note: %w", RetryAfter(boom, 3*time.Second)), 1, verdict{outcome: outcomeRetry, delay: 3 * time.Second}},
		{"shutdown releases at once", cancelled, boom, 1, verdict{outcome: outcomeRetry}},
		{"permanent terminates", context.Background(), Permanent(boom), 1, verdict{outcome: outcomeTerm, reason: Permanent(boom)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := q.decide(tc.ctx, tc.err, tc.delivered)
			if got.outcome != tc.want.outcome || got.delay != tc.want.delay || (got.reason == nil) != (tc.want.reason == nil) {
				t.Errorf("decide = %+v, want %+v", got, tc.want)
			}
		})
	}
	t.Run("last delivery terminates with the reason", func(t *testing.T) {
		got := q.decide(context.Background(), boom, 5)
		if got.outcome != outcomeTerm || !errors.Is(got.reason, boom) {
			t.Errorf("decide = %+v", got)
		}
	})
}

func TestClassification(t *testing.T) {
	boom := errors.New("boom")
	for _, tc := range []struct {
		name      string
		err       error
		permanent bool
	}{
		{"nil", nil, false},
		{"plain", boom, false},
		{"permanent", Permanent(boom), true},
		{"wrapped permanent", fmt.Errorf("step: %w", Permanent(boom)), true},
		{"retry around permanent", Retry(fmt.Errorf("x: %w", Permanent(boom))), false},
		{"joined permanents", errors.Join(Permanent(boom), Permanent(boom)), true},
		{"joined permanent and retry", errors.Join(Permanent(boom), Retry(boom)), false},
		{"joined permanent and plain", errors.Join(Permanent(boom), boom), false},
	} {
		if got := IsPermanent(tc.err); got != tc.permanent {
			t.Errorf("%s: IsPermanent = %v, want %v", tc.name, got, tc.permanent)
		}
	}
	if Retry(nil) != nil || Permanent(nil) != nil || RetryAfter(nil, time.Second) != nil {
		t.Error("classifying nil must give nil")
	}
	if !errors.Is(Permanent(boom), boom) || Permanent(boom).Error() != "boom" {
		t.Error("classification must keep the error's identity and message")
	}
}
