package safety

import (
	"fmt"
	"testing"
	"time"
)

// Workers whose own clocks are six minutes apart (one 3 minutes behind, one 3 ahead) share
// cooldowns: the worker ahead must not see a fresh 5-minute cooldown as already over.
func TestCooldownHoldsAcrossWorkerClockSkew(t *testing.T) {
	gs := newGuards(t, 2)
	behind, ahead := gs[0], gs[1]
	skew(behind, -3*time.Minute)
	skew(ahead, 3*time.Minute)
	ctx := t.Context()
	if err := behind.MarkRun(ctx, "restart", "app-1", "run-1"); err != nil {
		t.Fatal(err)
	}
	if _, cooling, err := ahead.Cooldown(ctx, "restart", "app-1", "run-2", 5*time.Minute); err != nil || !cooling {
		t.Errorf("a restart a moment ago is not cooling on the worker ahead: cooling=%v err=%v", cooling, err)
	}
}

// The action cap and storm mode count into windows every worker must agree on, whatever
// their clocks say: ten minutes of skew is one whole window here.
func TestWindowsHoldAcrossWorkerClockSkew(t *testing.T) {
	gs := newGuards(t, 2)
	skew(gs[0], -5*time.Minute)
	skew(gs[1], 5*time.Minute)
	ctx := t.Context()
	limits := Limits{StormIncidents: 2, StormWindow: 10 * time.Minute, MaxActions: 3, ActionWindow: 10 * time.Minute}
	allowed, storms := 0, 0
	for i := range 6 {
		if ok, err := gs[i%2].AllowAction(ctx, limits); err != nil {
			t.Fatal(err)
		} else if ok {
			allowed++
		}
		if s, err := gs[i%2].Storm(ctx, limits, fmt.Sprintf("PINC%d", i)); err != nil {
			t.Fatal(err)
		} else if s {
			storms++
		}
	}
	if allowed != 3 {
		t.Errorf("allowed %d actions across two skewed workers, cap is 3", allowed)
	}
	if storms != 4 {
		t.Errorf("%d of 6 incidents saw storm mode, want the 4 over the threshold of 2", storms)
	}
}
