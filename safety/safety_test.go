package safety

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/alaya-sre/alaya/internal/servertime"
	"github.com/alaya-sre/alaya/internal/testenv/natsserver"
	"github.com/alaya-sre/alaya/queue"
)

func newGuards(t *testing.T, n int) []*Guard {
	t.Helper()
	srv := natsserver.Start(t)
	q, err := queue.Connect(t.Context(), queue.Config{URLs: []string{srv.URL()}}, slog.New(slog.NewTextHandler(io.Discard, nil)), prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { q.Close() })
	var gs []*Guard
	for range n {
		gs = append(gs, New(q.Leases, q.Runs, q.Switches))
	}
	return gs
}

func TestCooldown(t *testing.T) {
	g := newGuards(t, 1)[0]
	ctx := t.Context()
	now := time.Date(2026, 11, 21, 3, 0, 0, 0, time.UTC)
	g.clock = servertime.Func(func() time.Time { return now })
	if _, cooling, err := g.Cooldown(ctx, "restart", "app-1", "run-2", 15*time.Minute); err != nil || cooling {
		t.Fatalf("fresh host cooling=%v err=%v", cooling, err)
	}
	if err := g.MarkRun(ctx, "restart", "app-1", "run-1"); err != nil {
		t.Fatal(err)
	}
	now = now.Add(10 * time.Minute)
	if _, cooling, _ := g.Cooldown(ctx, "restart", "app-1", "run-1", 15*time.Minute); cooling {
		t.Error("a run cooled itself down (its restart after its own detach)")
	}
	until, cooling, err := g.Cooldown(ctx, "restart", "app-1", "run-2", 15*time.Minute)
	if err != nil || !cooling || !until.Equal(now.Add(5*time.Minute)) {
		t.Errorf("10m after: cooling=%v until=%v err=%v", cooling, until, err)
	}
	if _, cooling, _ := g.Cooldown(ctx, "restart", "app-2", "run-2", 15*time.Minute); cooling {
		t.Error("cooldown leaked to another host")
	}
	if _, cooling, _ := g.Cooldown(ctx, "other", "app-1", "run-2", 15*time.Minute); cooling {
		t.Error("cooldown leaked to another runbook")
	}
	now = now.Add(5 * time.Minute)
	if _, cooling, _ := g.Cooldown(ctx, "restart", "app-1", "run-2", 15*time.Minute); cooling {
		t.Error("still cooling after the cooldown")
	}
}

func TestHostLeaseIsExclusiveAcrossWorkers(t *testing.T) {
	gs := newGuards(t, 2)
	ctx := t.Context()
	a, err := gs[0].AcquireHost(ctx, "app.3:x", "run-a", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := gs[1].AcquireHost(ctx, "app.3:x", "run-b", time.Second); !errors.Is(err, ErrHostBusy) {
		t.Fatalf("second holder: err = %v, want ErrHostBusy", err)
	}
	again, err := gs[1].AcquireHost(ctx, "app.3:x", "run-a", time.Second)
	if err != nil {
		t.Fatalf("the holder itself could not re-acquire (resumed run): %v", err)
	}
	again.stop()
	if err := a.Release(ctx); err != nil {
		t.Fatal(err)
	}
	b, err := gs[1].AcquireHost(ctx, "app.3:x", "run-b", time.Second)
	if err != nil {
		t.Fatalf("after release: %v", err)
	}
	b.Release(ctx)
}

func TestWindowCountsAcrossWorkers(t *testing.T) {
	gs := newGuards(t, 2)
	ctx := context.Background()
	now := time.Date(2026, 11, 21, 3, 0, 30, 0, time.UTC)
	for _, g := range gs {
		g.clock = servertime.Func(func() time.Time { return now })
	}
	limits := Limits{StormIncidents: 10, StormWindow: time.Minute, MaxActions: 3, ActionWindow: time.Hour}
	var wg sync.WaitGroup
	storms := make(chan bool, 12)
	for i := range 12 {
		wg.Go(func() {
			s, err := gs[i%2].Storm(ctx, limits, fmt.Sprintf("PINC%d", i))
			if err != nil {
				t.Error(err)
			}
			storms <- s
		})
	}
	wg.Wait()
	close(storms)
	n := 0
	for s := range storms {
		if s {
			n++
		}
	}
	if n != 2 {
		t.Errorf("%d of 12 concurrent incidents saw storm mode, want exactly the 2 over the threshold of 10", n)
	}
	allowed := 0
	for range 5 {
		if ok, _ := gs[0].AllowAction(ctx, limits); ok {
			allowed++
		}
	}
	if allowed != 3 {
		t.Errorf("allowed %d actions, cap is 3", allowed)
	}
	if s, _ := gs[0].Storm(ctx, limits, "PINC0"); !s {
		t.Error("a redelivery of a counted incident left storm mode")
	}
	if n, _ := gs[0].read(ctx, windowKey("incidents", now, time.Minute)); n != 12 {
		t.Errorf("a redelivered incident was counted again: %d incidents, want 12", n)
	}
	now = now.Add(time.Minute)
	if s, _ := gs[1].Storm(ctx, limits, "PINC99"); s {
		t.Error("storm mode carried into the next window")
	}
}

func TestSwitchesAreFleetWide(t *testing.T) {
	gs := newGuards(t, 2)
	ctx := t.Context()
	if s, err := gs[1].Switches(ctx); err != nil || s.Kill || s.DryRun {
		t.Fatalf("fresh switches = %+v, %v", s, err)
	}
	if err := gs[0].SetSwitch(ctx, SwitchKill, true); err != nil {
		t.Fatal(err)
	}
	if s, _ := gs[1].Switches(ctx); !s.Kill || s.DryRun {
		t.Errorf("another worker sees %+v after kill on", s)
	}
	gs[0].SetSwitch(ctx, SwitchKill, false)
	if s, _ := gs[1].Switches(ctx); s.Kill {
		t.Error("kill still on after off")
	}
	if err := gs[0].SetSwitch(ctx, "panic", true); err == nil {
		t.Error("unknown switch accepted")
	}
}

// skew gives g a worker clock d away from the real one; the guard asks the server anyway.
func skew(g *Guard, d time.Duration) {
	g.clock = servertime.New(servertime.FromKV(g.state)).WithLocal(func() time.Time { return time.Now().Add(d) })
}
