package remediate_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/alaya-sre/alaya/executor"
	"github.com/alaya-sre/alaya/ledger"
	"github.com/alaya-sre/alaya/queue"
	"github.com/alaya-sre/alaya/remediate"
	"github.com/alaya-sre/alaya/safety"
)

// A run whose worker died during a change, and whose event will never come back, ends
// abandoned: the change is unknown, its host held, the incident told since when. Before the
// sweep it stayed running in the ledger (and in `alaya runs`) forever. A run whose handler is
// alive, in a change at the same time, is left alone however often the sweep runs.
func TestLostRunIsAbandoned(t *testing.T) {
	for _, tt := range []struct {
		name string
		lose func(t *testing.T, q *queue.Queue, seq uint64)
	}{
		{"acknowledged by another installation's worker", ackElsewhere},
		{"deleted from the stream", deleteFromStream},
	} {
		t.Run(tt.name, func(t *testing.T) { testLostRun(t, tt.lose) })
	}
}

func testLostRun(t *testing.T, lose func(t *testing.T, q *queue.Queue, seq uint64)) {
	ctx := t.Context()
	b := newBedInv(t, gatedRunbook, twoHosts, nil)
	guard := withSafety(b, safety.Limits{})
	b.opts = remediate.Options{Heartbeat: 50 * time.Millisecond}
	started, release := make(chan string, 2), make(chan struct{})
	b.runner.hook = func(hctx context.Context, host, cmd string) (*executor.Result, error) {
		if cmd == "restart-it" {
			started <- host
			select { // the change takes until the test ends, or its handler is stopped
			case <-release:
			case <-hctx.Done():
				return nil, hctx.Err()
			}
		}
		return &executor.Result{}, nil
	}
	cfg := queue.Config{URLs: []string{b.url}, AckWait: 300 * time.Millisecond, MaxDeliver: 1,
		BackOff: []time.Duration{50 * time.Millisecond}}
	q, err := queue.Connect(ctx, cfg, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { q.Close() })

	// The live run: its handler is in the restart on b, heartbeating, until the test ends.
	pLive := b.newP("live")
	_, liveRun := parkOn(t, b, pLive, "PLIVE", "b")
	var liveDone sync.WaitGroup
	liveDone.Go(func() { _ = pLive.Handle(ctx, approve("PLIVE", codeOf(t, b, "PLIVE"), "ap-live")) })
	t.Cleanup(func() { close(release); liveDone.Wait() })
	waitFor(t, started, "b")
	liveOwner := b.record(t, liveRun).Owner

	// The lost run: a worker consumes the approval from the stream, starts the restart on a,
	// and its process dies (its NATS connections close; nothing more of it reaches the server).
	nc, err := nats.Connect(b.url)
	if err != nil {
		t.Fatal(err)
	}
	js, _ := jetstream.New(nc)
	runs, err := js.KeyValue(ctx, "runs")
	if err != nil {
		t.Fatal(err)
	}
	pDead := b.newPOn("dead", runs)
	_, lostRun := parkOn(t, b, pDead, "PLOST", "a")
	seq, _, err := q.Publish(ctx, approve("PLOST", codeOf(t, b, "PLOST"), "ap-lost"))
	if err != nil {
		t.Fatal(err)
	}
	qDead, err := queue.Connect(ctx, cfg, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	deadCtx, kill := context.WithCancel(ctx)
	go qDead.Consume(deadCtx, queue.HandlerFunc(func(hctx context.Context, d *queue.Delivery) error {
		return pDead.Handle(hctx, d.Event)
	}))
	waitFor(t, started, "a")
	nc.Close()
	qDead.Conn().Close()
	kill()
	lose(t, q, seq) // the event will never be delivered again

	b.redelivery = q.RedeliveryHorizon
	b.opts.HandlerTimeout = 3 * time.Second // how long a live handler may stay silent
	sweepers := []*remediate.Pipeline{b.newP("sweeper-1"), b.newP("sweeper-2")}
	deadline := time.Now().Add(30 * time.Second)
	for b.record(t, lostRun).State == ledger.StateRunning {
		if time.Now().After(deadline) {
			t.Fatalf("the lost run is still running 30 s after its worker died: %+v", b.record(t, lostRun))
		}
		sweepAll(t, sweepers)
		if rec := b.record(t, liveRun); rec.State != ledger.StateRunning || rec.Steps["2/b"].Status != ledger.StepStarted {
			t.Fatalf("the sweep touched the live run: %+v", rec)
		}
		time.Sleep(50 * time.Millisecond) // the dead run ages by the passing of time
	}
	sweepAll(t, sweepers) // again: nothing more happens

	rec := b.record(t, lostRun)
	if rec.State != ledger.StateAbandoned || !strings.Contains(rec.Reason, "lost") || !rec.Noted {
		t.Errorf("lost run: state %q, reason %q, noted %v; want abandoned, lost, noted", rec.State, rec.Reason, rec.Noted)
	}
	if rec.Steps["0/a"].Status != ledger.StepDone || rec.Steps["2/a"].Status != ledger.StepUnknown {
		t.Errorf("lost run's steps %+v: want look done, restart unknown", rec.Steps)
	}
	if h, err := guard.Held(ctx, "a"); err != nil || h == nil || h.Run != lostRun {
		t.Errorf("host a: hold %+v, %v; want held for run %s", h, err, lostRun)
	}
	note := b.pd.find("run abandoned")
	for _, want := range []string{"gated", "since", "restart on a: outcome unknown", "alaya holds clear a", lostRun} {
		if !strings.Contains(note, want) {
			t.Errorf("note %q does not say %q", note, want)
		}
	}
	if n := countNotes(b.pd, "run abandoned"); n != 1 {
		t.Errorf("%d abandon notes, want 1", n)
	}
	live := b.record(t, liveRun)
	if live.State != ledger.StateRunning || live.Owner == "" || !strings.HasPrefix(live.Owner, "live/") || liveOwner == "" {
		t.Errorf("live run: state %q owner %q; want running under its handler", live.State, live.Owner)
	}
	if h, _ := guard.Held(ctx, "b"); h != nil {
		t.Errorf("host b held: %+v", h)
	}
}

// ackElsewhere is a worker of another installation sharing the durable consumer: the event
// comes back to it after the dead worker's ack wait, it knows no such run, and acknowledges.
func ackElsewhere(t *testing.T, q *queue.Queue, seq uint64) {
	t.Helper()
	cfg := q.Config()
	cons, err := q.JetStream().Consumer(t.Context(), cfg.Stream, cfg.Consumer)
	if err != nil {
		t.Fatal(err)
	}
	msg, err := cons.Next(jetstream.FetchMaxWait(10 * time.Second))
	if err != nil {
		t.Fatalf("the dead worker's event did not come back: %v", err)
	}
	if meta, _ := msg.Metadata(); meta == nil || meta.Sequence.Stream != seq {
		t.Fatalf("another message came back: %v", meta)
	}
	if err := msg.DoubleAck(t.Context()); err != nil {
		t.Fatal(err)
	}
}

// deleteFromStream is an operator removing the event (or the stream's limits doing it).
func deleteFromStream(t *testing.T, q *queue.Queue, seq uint64) {
	t.Helper()
	s, err := q.JetStream().Stream(t.Context(), q.Config().Stream)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteMsg(t.Context(), seq); err != nil {
		t.Fatal(err)
	}
}

// parkOn parks incident id's run at its gate, its trigger naming host.
func parkOn(t *testing.T, b *bed, p *remediate.Pipeline, id, host string) (code, runID string) {
	t.Helper()
	handle(t, p, triggeredOn(id, host))
	code = codeOf(t, b, id)
	req, _, err := b.approv.Get(t.Context(), id, code)
	if err != nil {
		t.Fatal(err)
	}
	return code, req.Run
}

// codeOf is the gate code of the incident's pending approval.
func codeOf(t *testing.T, b *bed, id string) string {
	t.Helper()
	reqs, err := b.approv.Pending(t.Context(), id)
	if err != nil || len(reqs) != 1 {
		t.Fatalf("pending approvals of %s: %v, %v", id, reqs, err)
	}
	return reqs[0].Code
}

func waitFor(t *testing.T, started <-chan string, host string) {
	t.Helper()
	select {
	case h := <-started:
		if h != host {
			t.Fatalf("restart started on %s, want %s", h, host)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("the restart on %s never started", host)
	}
}

// sweepAll runs every sweeper at once, as workers do.
func sweepAll(t *testing.T, sweepers []*remediate.Pipeline) {
	t.Helper()
	var wg sync.WaitGroup
	for _, p := range sweepers {
		wg.Go(func() {
			if err := p.SweepAbandoned(t.Context()); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
}
