package slack

import (
	"context"
	"errors"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// TestLimiterSpacesOneChannel: five messages to one channel start a second apart, another
// channel is not delayed, and a 429 holds the channel for its Retry-After.
func TestLimiterSpacesOneChannel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newChannelLimiter(time.Second)
		ctx := context.Background()
		start := time.Now()
		var mu sync.Mutex
		var starts []time.Duration
		var wg sync.WaitGroup
		for range 5 {
			wg.Go(func() {
				if err := l.wait(ctx, "chat.postMessage", "C1"); err != nil {
					t.Error(err)
				}
				mu.Lock()
				starts = append(starts, time.Since(start))
				mu.Unlock()
			})
		}
		wg.Wait()
		for i, want := range []time.Duration{0, time.Second, 2 * time.Second, 3 * time.Second, 4 * time.Second} {
			if starts[i] != want {
				t.Errorf("start %d at %v, want %v", i, starts[i], want)
			}
		}
		before := time.Now()
		if err := l.wait(ctx, "chat.postMessage", "C2"); err != nil || time.Since(before) != 0 {
			t.Errorf("other channel waited %v (%v)", time.Since(before), err)
		}
		l.backOff("C2", 30*time.Second)
		before = time.Now()
		if err := l.wait(ctx, "chat.postMessage", "C2"); err != nil || time.Since(before) != 30*time.Second {
			t.Errorf("after a 429 the channel waited %v (%v), want 30s", time.Since(before), err)
		}
	})
}

// TestLimiterBoundedByContext: a wait beyond the caller's deadline is not started, and a
// cancelled wait returns at once.
func TestLimiterBoundedByContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newChannelLimiter(time.Second)
		l.backOff("C1", time.Minute)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		before := time.Now()
		err := l.wait(ctx, "chat.update", "C1")
		var rl *RateLimitedError
		if !errors.As(err, &rl) || rl.RetryAfter != time.Minute || time.Since(before) != 0 {
			t.Errorf("wait = %v after %v, want a 1m rate limit at once", err, time.Since(before))
		}
		ctx2, cancel2 := context.WithCancel(context.Background())
		l2 := newChannelLimiter(time.Second)
		_ = l2.wait(ctx2, "chat.update", "C1")
		go cancel2()
		if err := l2.wait(ctx2, "chat.update", "C1"); !errors.Is(err, context.Canceled) || !Temporary(err) {
			t.Errorf("cancelled wait = %v", err)
		}
	})
}
