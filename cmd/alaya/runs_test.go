package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/alaya-sre/alaya/internal/testenv/natsserver"
	"github.com/alaya-sre/alaya/ledger"
	"github.com/alaya-sre/alaya/queue"
)

func TestRunsListsTheLedger(t *testing.T) {
	srv := natsserver.Start(t)
	t.Setenv("ALAYA_NATS_URLS", srv.URL())
	t.Setenv("ALAYA_EVIDENCE_DIR", t.TempDir())
	ctx := context.Background()
	q, err := queue.Connect(ctx, queue.Config{URLs: []string{srv.URL()}}, slog.New(slog.NewTextHandler(io.Discard, nil)), prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	l := ledger.New(q.Runs, "test-worker", time.Minute)
	for _, rec := range []ledger.Record{
		{ID: "rAAA", Incident: "PINC1", Runbook: "host-basics", Version: "abc"},
		{ID: "rBBB", Incident: "PINC2", Runbook: "jvm-heap", Version: "def"},
	} {
		h, _, err := l.Begin(ctx, rec)
		if err != nil {
			t.Fatal(err)
		}
		h.Update(ctx, func(r *ledger.Record) {
			r.Steps["0/app-1"] = ledger.Step{Status: "done"}
			r.State = ledger.StateDone
		})
	}
	var out, errOut bytes.Buffer
	if code := run(ctx, []string{"runs", "--incident", "PINC2"}, &out, &errOut); code != 0 {
		t.Fatalf("runs exited %d: %s", code, errOut.String())
	}
	if !strings.Contains(out.String(), "rBBB") || !strings.Contains(out.String(), "jvm-heap@def") ||
		!strings.Contains(out.String(), "1 done") || strings.Contains(out.String(), "rAAA") {
		t.Errorf("runs output:\n%s", out.String())
	}
}

func TestSwitchIsSeenByTheFleet(t *testing.T) {
	srv := natsserver.Start(t)
	t.Setenv("ALAYA_NATS_URLS", srv.URL())
	t.Setenv("ALAYA_EVIDENCE_DIR", t.TempDir())
	ctx := context.Background()
	// The daemons declare the buckets; the CLI only binds to them.
	daemon, err := queue.Connect(ctx, queue.Config{URLs: []string{srv.URL()}}, slog.New(slog.DiscardHandler), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer daemon.Close()
	var out, errOut bytes.Buffer
	if code := run(ctx, []string{"switch", "kill", "on"}, &out, &errOut); code != 0 || !strings.Contains(out.String(), "kill: on") {
		t.Fatalf("switch kill on: %d %q %q", code, out.String(), errOut.String())
	}
	g, closeQ, err := fleetGuard(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	defer closeQ()
	if s, _ := g.Switches(ctx); !s.Kill {
		t.Error("a worker's guard does not see the kill switch")
	}
	if code := run(ctx, []string{"switch", "brake", "on"}, &out, &errOut); code != 2 {
		t.Errorf("unknown switch exited %d", code)
	}
}

// A run a sweep ended because nobody would ever finish it shows as abandoned, with the step
// that was under way unknown.
func TestRunsShowsAbandonedRuns(t *testing.T) {
	srv := natsserver.Start(t)
	t.Setenv("ALAYA_NATS_URLS", srv.URL())
	t.Setenv("ALAYA_EVIDENCE_DIR", t.TempDir())
	ctx := context.Background()
	q, err := queue.Connect(ctx, queue.Config{URLs: []string{srv.URL()}}, slog.New(slog.DiscardHandler), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	l := ledger.New(q.Runs, "test-worker", time.Minute)
	h, _, err := l.Begin(ctx, ledger.Record{ID: "rLOST", Incident: "PINC3", Runbook: "restart", Version: "abc"})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Update(ctx, func(r *ledger.Record) { r.Steps["0/app-1"] = ledger.Step{Status: ledger.StepStarted} }); err != nil {
		t.Fatal(err)
	}
	silent, err := l.Silent(ctx, -time.Second) // any age: the server time known may trail a fresh write
	if err != nil || len(silent) != 1 {
		t.Fatalf("Silent = %v, %v", silent, err)
	}
	if _, err := silent[0].Abandon(ctx, "lost"); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	if code := run(ctx, []string{"runs"}, &out, &errOut); code != 0 {
		t.Fatalf("runs exited %d: %s", code, errOut.String())
	}
	if !strings.Contains(out.String(), "abandoned") || !strings.Contains(out.String(), "1 unknown") {
		t.Errorf("runs output:\n%s", out.String())
	}
}
