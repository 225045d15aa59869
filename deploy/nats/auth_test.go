package natsdeploy_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/alaya-sre/alaya/approval"
	"github.com/alaya-sre/alaya/approval/page"
	"github.com/alaya-sre/alaya/incident"
	"github.com/alaya-sre/alaya/queue"
	"github.com/alaya-sre/alaya/safety"
)

// TestShippedClusterAuthenticates runs deploy/nats as shipped and tries every role, and no
// role, against it. Before this configuration, the cluster had no TLS and no users: anyone who
// reached port 4222 could read alaya_approvals, forge events and flip the switches.
func TestShippedClusterAuthenticates(t *testing.T) {
	t.Run("certificates made in Go", func(t *testing.T) { testRoles(t, startCluster(t, goCerts(t))) })
	t.Run("certificates made by gen-certs.sh", func(t *testing.T) { testRoles(t, startCluster(t, scriptCerts(t))) })
}

func testRoles(t *testing.T, c *cluster) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	worker := c.queue(t, "worker") // declares the stream, consumer and buckets, 3 replicas
	const approvalKey = "PINC1.ABC123"
	if _, err := worker.Approvals.Put(ctx, approvalKey, []byte(`{"code":"ABC123","plan_hash":"secret-plan-hash"}`)); err != nil {
		t.Fatal(err)
	}

	t.Run("no anonymous, plain-text or unknown client gets in", func(t *testing.T) {
		if !plainTextRefused(t, c.clients[0]) {
			t.Error("a client without TLS was answered PONG")
		}
		if why := c.refusedConnect(t, "TLS without a client certificate", c.tlsOptions(t, "")...); why != "" {
			t.Logf("no certificate: %s", why)
		}
		if why := c.refusedConnect(t, "TLS without a client certificate, with a user and password",
			append(c.tlsOptions(t, ""), nats.UserInfo("alaya-worker", "guess"))...); why != "" {
			t.Logf("user and password: %s", why)
		}
		// A certificate from the right CA whose subject is no user is still refused.
		c.ca.Issue(t, "alaya-intruder", "alaya-intruder", nil, nil)
		if why := c.refusedConnect(t, "a CA-signed certificate of no user", c.tlsOptions(t, "alaya-intruder")...); !strings.Contains(why, "Authorization Violation") {
			t.Errorf("unknown certificate subject refused with %q, want an authorization violation", why)
		}
	})

	t.Run("a client certificate from the same CA cannot join the cluster as a route", func(t *testing.T) {
		log := c.startImpostor(t, "alaya-worker")
		// With a node's certificate the same server joins (checked by hand): the subject is
		// what the nodes refuse.
		deadline := time.Now().Add(10 * time.Second)
		for !strings.Contains(log.String(), "Route Error 'Authorization Violation'") {
			if time.Now().After(deadline) {
				t.Fatalf("the impostor's routes were not refused:\n%s", log.String())
			}
			time.Sleep(50 * time.Millisecond) // polling the log: the refusal is announced nowhere else
		}
	})

	rq := c.queue(t, "receiver")
	var gateCode string // parked by the worker, shown by the page
	t.Run("the receiver stores events and is ready, and reads or writes no state", func(t *testing.T) {
		ev := &incident.Event{ID: "ev-auth-1", Type: "incident.triggered", Source: "pagerduty",
			Incident: incident.Incident{ID: "PINC1"}}
		if _, _, err := rq.Publish(ctx, ev); err != nil {
			t.Fatalf("receiver publish: %v", err)
		}
		if err := rq.Ready(ctx); err != nil {
			t.Errorf("receiver ready: %v", err)
		}
		if code := readyz(t, c.config(t, "receiver")); code != http.StatusOK {
			t.Errorf("receiver /readyz = %d", code)
		}
		nc := c.conn(t, "receiver")
		nc.refusedPublish(t, "$JS.API.STREAM.INFO.KV_alaya_approvals")
		nc.refusedPublish(t, "$JS.API.DIRECT.GET.KV_alaya_approvals.$KV.alaya_approvals."+approvalKey)
		nc.refusedPublish(t, "$JS.API.STREAM.MSG.GET.KV_alaya_approvals")
		nc.refusedPublish(t, "$KV.alaya_approvals."+approvalKey)
		nc.refusedPublish(t, "$KV.alaya_switches.switch.kill")
		nc.refusedPublish(t, "$JS.API.STREAM.PURGE.ALAYA_EVENTS")
		nc.refusedPublish(t, "$JS.API.CONSUMER.MSG.NEXT.ALAYA_EVENTS.alaya-worker")
		nc.refusedSubscribe(t, "$KV.>")
		nc.refusedSubscribe(t, "alaya.events.>")
		nc.refusedSubscribe(t, "_INBOX_worker.>")
		c.expect("receiver", "Publish", "$JS.API.STREAM.INFO.KV_alaya_approvals")
		short, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		if _, err := rq.KV(short, queue.BucketApprovals); err == nil {
			t.Error("the receiver bound the approvals bucket")
		}
	})

	t.Run("the worker consumes events and keeps run state", func(t *testing.T) {
		handled := make(chan string, 1)
		cctx, stop := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() {
			done <- worker.Consume(cctx, queue.HandlerFunc(func(ctx context.Context, d *queue.Delivery) error {
				if _, err := worker.Runs.Put(ctx, "run.auth-1", []byte(`{"id":"auth-1","incident":"PINC1"}`)); err != nil {
					return queue.Permanent(err)
				}
				select {
				case handled <- d.Event.ID:
				default:
				}
				return nil
			}))
		}()
		select {
		case id := <-handled:
			if id != "ev-auth-1" {
				t.Errorf("worker handled %s", id)
			}
		case <-ctx.Done():
			t.Fatal("the worker never handled the receiver's event")
		}
		stop()
		<-done
		if e, err := worker.Approvals.Get(ctx, approvalKey); err != nil || !strings.Contains(string(e.Value()), "ABC123") {
			t.Errorf("worker reads approvals: %v", err)
		}
		gateCode = workerState(t, ctx, worker)
	})

	t.Run("the approval page reads one approval by its key and nothing else", func(t *testing.T) {
		pq := c.queue(t, "page")
		kv, err := pq.KV(ctx, queue.BucketApprovals)
		if err != nil {
			t.Fatalf("page binds approvals: %v", err)
		}
		if e, err := kv.Get(ctx, approvalKey); err != nil || !strings.Contains(string(e.Value()), "ABC123") {
			t.Errorf("page reads an approval: %v", err)
		}
		// The page compares expiry with the server's time, as the worker does.
		short, cancel := context.WithTimeout(ctx, 10*time.Second) // a refused request only times out
		defer cancel()
		if _, err := retryReadBack(func() (time.Time, error) { return approval.NewStore(kv, nil).Now(short) }); err != nil {
			t.Errorf("page reads the server's time: %v", err)
		}
		// The real receiver with the page on its own listener, as alaya-page, shows the gate.
		const linkKey = "link-key-for-the-nats-auth-test-0123456789"
		addr := fmt.Sprintf("127.0.0.1:%d", freePorts(t, 1)[0])
		cfg := c.config(t, "page", "ALAYA_RECEIVER_PAGE_LISTEN", addr, "ALAYA_RECEIVER_LINK_KEY", linkKey)
		if code, body := pageGet(t, cfg, page.URL("http://"+addr, []byte(linkKey), "PINC2", gateCode)); code != http.StatusOK || !strings.Contains(body, gateCode) {
			t.Errorf("the approval page as alaya-page answered %d:\n%s", code, body)
		}

		nc := c.conn(t, "page")
		nc.refusedPublish(t, "$KV.alaya_approvals."+approvalKey)
		nc.refusedPublish(t, "$JS.API.CONSUMER.CREATE.KV_alaya_approvals")
		nc.refusedPublish(t, "$JS.API.DIRECT.GET.KV_alaya_runs.$KV.alaya_runs.run.auth-1")
		nc.refusedSubscribe(t, "$KV.alaya_approvals.>")
	})

	t.Run("the operator reads the ledger and sets switches, and publishes no events", func(t *testing.T) {
		oq := c.queue(t, "operator")
		runs, err := oq.KV(ctx, queue.BucketRuns)
		if err != nil {
			t.Fatal(err)
		}
		if keys := listKeys(t, ctx, runs, "run.>"); len(keys) != 1 || keys[0] != "run.auth-1" {
			t.Errorf("operator lists the ledger: %v", keys)
		}
		if e, err := runs.Get(ctx, "run.auth-1"); err != nil || !strings.Contains(string(e.Value()), "PINC1") {
			t.Errorf("operator reads a run: %v", err)
		}
		switches, err := oq.KV(ctx, queue.BucketSwitches)
		if err != nil {
			t.Fatal(err)
		}
		if err := safety.New(nil, runs, switches).SetSwitch(ctx, safety.SwitchKill, true); err != nil {
			t.Fatalf("operator sets the kill switch: %v", err)
		}
		// Direct gets may be answered by a replica that has not applied the write yet.
		seen := false
		for deadline := time.Now().Add(5 * time.Second); !seen && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			s, err := safety.New(worker.Leases, worker.Runs, worker.Switches).Switches(ctx)
			seen = err == nil && s.Kill
		}
		if !seen {
			t.Error("the worker does not see the kill switch")
		}
		nc := c.conn(t, "operator")
		nc.refusedPublish(t, "alaya.events.pagerduty.incident.annotated")
		nc.refusedPublish(t, "$KV.alaya_runs.run.auth-1")
		nc.refusedPublish(t, "$KV.alaya_runs.switch.kill")
		nc.refusedPublish(t, "$JS.API.STREAM.INFO.KV_alaya_approvals")
		nc.refusedPublish(t, "$JS.API.DIRECT.GET.KV_alaya_approvals.$KV.alaya_approvals."+approvalKey)
		nc.refusedPublish(t, "$JS.API.STREAM.UPDATE.KV_alaya_runs")
		nc.refusedPublish(t, "$JS.API.STREAM.DELETE.ALAYA_EVENTS")
	})

	// Every role did its work without touching a subject it is denied: the only refusals in
	// the servers' logs are the ones provoked above.
	if v := c.unexpectedViolations(); len(v) > 0 {
		t.Errorf("permission violations in normal work:\n%s", strings.Join(v, "\n"))
	}
}

func listKeys(t *testing.T, ctx context.Context, kv jetstream.KeyValue, filter string) []string {
	t.Helper()
	l, err := kv.ListKeysFiltered(ctx, filter)
	if err != nil {
		t.Fatalf("list keys: %v", err)
	}
	var keys []string
	for k := range l.Keys() {
		keys = append(keys, k)
	}
	return keys
}

// workerState does what the pipeline does with the buckets, through the same packages: park a
// gate (the server's clock, create), list an incident's pending gates (a watch), take and
// release a host lease, count towards storm mode and the action window.
func workerState(t *testing.T, ctx context.Context, worker *queue.Queue) (code string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second) // a refused request only times out
	defer cancel()
	store := approval.NewStore(worker.Approvals, nil)
	req := &approval.Request{Incident: "PINC2", Run: "run-2", Runbook: "restart", Gate: "approve", PlanHash: "h"}
	if _, err := retryReadBack(func() (struct{}, error) { return struct{}{}, store.Create(ctx, req) }); err != nil {
		t.Fatalf("worker parks a gate: %v", err)
	}
	if p, err := store.Pending(ctx, "PINC2"); err != nil || len(p) != 1 {
		t.Errorf("worker lists pending gates: %d %v", len(p), err)
	}
	if _, _, err := store.Get(ctx, "PINC2", req.Code); err != nil {
		t.Errorf("worker reads a gate: %v", err)
	}
	guard := safety.New(worker.Leases, worker.Runs, worker.Switches)
	lease, err := guard.AcquireHost(ctx, "target-1", "worker-1", time.Minute)
	if err != nil {
		t.Fatalf("worker leases a host: %v", err)
	}
	if err := lease.Release(ctx); err != nil {
		t.Errorf("worker releases a host: %v", err)
	}
	limits := safety.Limits{StormIncidents: 20, StormWindow: time.Minute, MaxActions: 30, ActionWindow: time.Hour}
	if _, err := guard.Storm(ctx, limits, "PINC2"); err != nil {
		t.Errorf("worker counts towards storm mode: %v", err)
	}
	if _, err := guard.AllowAction(ctx, limits); err != nil {
		t.Errorf("worker counts an action: %v", err)
	}
	return req.Code
}

// retryReadBack retries f while it fails with "key not found": the approval store reads its
// clock write back by revision, and on three replicas a direct get may be answered by a replica
// that has not applied the write yet. That race is the store's, not a permission; retrying it
// keeps this test about permissions.
func retryReadBack[T any](f func() (T, error)) (T, error) {
	var v T
	var err error
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if v, err = f(); err == nil || !errors.Is(err, jetstream.ErrKeyNotFound) {
			break
		}
	}
	return v, err
}
