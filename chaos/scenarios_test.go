package chaos_test

import (
	"context"
	"math/rand/v2"
	"net/http"
	"testing"
	"time"

	"github.com/alaya-sre/alaya/internal/testenv/fleet"
	"github.com/alaya-sre/alaya/queue"
)

// roundTimeout bounds one round: a dead worker's run must be taken over and reported well
// within it.
const roundTimeout = 4 * time.Minute

var hosts = []string{"target-1", "target-2", "target-3"}

// round triggers one incident per host, approves each as soon as its gate is posted, calls
// fault (if any) once every approval is in, and checks the invariants when all runs ended.
func (w *world) round(t *testing.T, fault func()) tally {
	ctx, cancel := context.WithTimeout(context.Background(), roundTimeout)
	defer cancel()
	before, err := fleetState(w.f)
	if err != nil {
		t.Fatalf("fleet state before the round: %v", err)
	}
	ids := make([]string, len(hosts))
	for i, h := range hosts {
		ids[i] = w.trigger(h)
	}
	errs := make(chan error, len(ids))
	for _, id := range ids {
		go func() { errs <- w.approve(ctx, id) }()
	}
	for range ids {
		if err := <-errs; err != nil {
			w.dump()
			t.Fatal(err)
		}
	}
	if fault != nil {
		fault()
	}
	start := time.Now()
	tl := w.check(ctx)
	if tl.lost > 0 {
		w.dump()
	}
	t.Logf("round of %v: every run ended %v after the fault", ids, time.Since(start).Round(time.Second))
	after, err := fleetState(w.f)
	if err != nil {
		t.Fatalf("fleet state after the round: %v", err)
	}
	if held := w.clearHolds(); held > 0 {
		t.Logf("%d hosts held after changes with unknown outcomes; cleared, as the on-call would after a look", held)
		for _, id := range ids {
			if n, err := w.waitNote(ctx, id, isFinal); err == nil && unknownRe.MatchString(n.Content) {
				t.Logf("%s said:\n%s", id, n.Content)
			}
		}
	}
	if after != before {
		t.Errorf("the fleet's stream, consumers, buckets or switches changed:\nbefore %s\nafter %s", before, after)
	}
	return tl
}

// dump keeps what every process was doing, stacks and all, in the logs the fleet keeps.
func (w *world) dump() {
	w.f.Receiver.Dump()
	for _, d := range w.f.Workers {
		d.Dump()
	}
}

// resetMarks starts each round on clean hosts, so a round is judged by its own incidents.
func (w *world) reset() { w.incidents = nil }

// TestKillWorker: kill -9 a random worker at a random moment while approved changes run,
// then start it again, as a supervisor would.
func TestKillWorker(t *testing.T) {
	w := newWorld(t, 2, 2*time.Second, nil)
	var sum tally
	for range count(2, 50) {
		w.reset()
		sum = add(sum, w.round(t, func() {
			time.Sleep(rand.N(4500 * time.Millisecond))
			d := w.f.Workers[rand.N(len(w.f.Workers))]
			d.Kill()
			d.Start()
		}))
	}
	t.Logf("kill -9 a worker: %v", sum)
}

// TestStopWorkerShortGrace: SIGTERM the only worker while a change runs that outlasts its
// shutdown grace; the change cut off by the grace must be reported unknown, and nothing may
// start after it.
func TestStopWorkerShortGrace(t *testing.T) {
	w := newWorld(t, 1, 4*time.Second, map[string]string{"ALAYA_WORKER_SHUTDOWN_GRACE": "1s"})
	var sum tally
	for range count(1, 20) {
		w.reset()
		sum = add(sum, w.round(t, func() {
			w.waitMark(t, "drain", "start")
			d := w.f.Workers[0]
			d.Stop()
			d.Start()
		}))
	}
	t.Logf("SIGTERM with a short grace: %v", sum)
}

// TestKillNATSNode: SIGKILL one nats-server node while webhooks arrive (a bystander's notes,
// besides Alaya's own) and changes run, then restart it. Every other round the node is the events stream's leader, whose loss moves the
// stream and the workers' consumer; the others hit a random node.
func TestKillNATSNode(t *testing.T) {
	w := newWorld(t, 2, 2*time.Second, nil)
	var sum tally
	for i := range count(2, 10) {
		w.reset()
		sum = add(sum, w.round(t, func() {
			time.Sleep(rand.N(3 * time.Second))
			n := w.f.NATS.Nodes[rand.N(len(w.f.NATS.Nodes))]
			if i%2 == 0 {
				leader, err := w.f.StreamLeader(queue.DefaultStream)
				if err != nil {
					t.Fatalf("the stream's leader: %v", err)
				}
				n = leader
			}
			stop := w.chatter()
			defer stop()
			n.Kill()
			time.Sleep(5 * time.Second)
			n.Restart()
		}))
	}
	t.Logf("SIGKILL a nats-server node: %v", sum)
}

// TestFreezeNATS: every nats-server stops answering for 10 s while changes run.
func TestFreezeNATS(t *testing.T) {
	w := newWorld(t, 2, 2*time.Second, nil)
	var sum tally
	for range count(1, 10) {
		w.reset()
		sum = add(sum, w.round(t, func() {
			time.Sleep(rand.N(3 * time.Second))
			w.f.NATS.Freeze()
			time.Sleep(10 * time.Second)
			w.f.NATS.Thaw()
		}))
	}
	t.Logf("all of NATS unreachable for 10 s: %v", sum)
}

// TestS3Faults: S3 unreachable for a minute (20 s in CI's round), then S3 refusing every
// request (AccessDenied) while changes run.
func TestS3Faults(t *testing.T) {
	w := newWorld(t, 2, 2*time.Second, nil)
	outage := time.Duration(count(20, 60)) * time.Second
	for name, fault := range map[string]fleet.Fault{"unavailable": fleet.Down, "access denied": fleet.AccessDenied} {
		var sum tally
		for range count(1, 5) {
			w.reset()
			w.f.S3Proxy.Set(fault)
			sum = add(sum, w.round(t, func() {
				time.Sleep(outage)
				w.f.S3Proxy.Set(fleet.Pass)
			}))
		}
		t.Logf("S3 %s: %v", name, sum)
	}
}

// TestPagerDutyLimits: PagerDuty answers 429 with ratelimit-reset, then 5xx, for a minute
// (15 s in CI's round), with two workers posting.
func TestPagerDutyLimits(t *testing.T) {
	w := newWorld(t, 2, time.Second, nil)
	outage := time.Duration(count(15, 60)) * time.Second
	for _, status := range []int{http.StatusTooManyRequests, http.StatusInternalServerError} {
		var sum tally
		for range count(1, 5) {
			w.reset()
			sum = add(sum, w.round(t, func() {
				w.f.PD.FailFor("/incidents/*", status, outage)
			}))
		}
		t.Logf("PagerDuty %d: %v", status, sum)
	}
}

func add(a, b tally) tally {
	return tally{a.runs + b.runs, a.lost + b.lost, a.duplicatedActions + b.duplicatedActions,
		a.unreportedUnknowns + b.unreportedUnknowns, a.duplicateNotes + b.duplicateNotes, a.outOfOrder + b.outOfOrder}
}

// waitMark waits until some host logged step's phase.
func (w *world) waitMark(t *testing.T, step, phase string) {
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		for _, m := range w.marks() {
			if m.step == step && m.phase == phase && w.current(m.incident) {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no %s %s mark within a minute", step, phase)
}

func (w *world) current(id string) bool {
	for _, i := range w.incidents {
		if i == id {
			return true
		}
	}
	return false
}

// TestTakeoverWithinAckWait: with the default ack wait (30 s), every worker is killed while
// approved changes run and started again at once. The runs they held come back with their
// events and must each end with a final note within 45 s of the crash.
func TestTakeoverWithinAckWait(t *testing.T) {
	w := newWorld(t, 2, 4*time.Second, map[string]string{"ALAYA_WORKER_ACK_WAIT": "30s"})
	var crash time.Time
	sum := w.round(t, func() {
		w.waitMark(t, "drain", "start")
		for _, d := range w.f.Workers {
			d.Kill()
		}
		crash = time.Now()
		for _, d := range w.f.Workers {
			d.Start()
		}
	})
	for _, id := range w.incidents {
		for _, n := range w.f.PD.Notes(id) {
			if isFinal(n) && n.CreatedAt.Sub(crash) > 45*time.Second {
				t.Errorf("%s: final note %v after the crash, want within 45 s", id, n.CreatedAt.Sub(crash).Round(time.Second))
			}
		}
	}
	t.Logf("every worker killed, default ack wait: %v", sum)
}
