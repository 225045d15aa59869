package queue_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/alaya-sre/alaya/incident"
	"github.com/alaya-sre/alaya/internal/testenv/natsserver"
	"github.com/alaya-sre/alaya/queue"
)

func TestPublishSameIDTwiceStoresOneMessage(t *testing.T) {
	q := connect(t, natsserver.Start(t), nil)
	seq1, dup1, err := q.Publish(t.Context(), event("ev-1"))
	if err != nil || dup1 {
		t.Fatalf("first Publish = %d, %v, %v; want stored", seq1, dup1, err)
	}
	seq2, dup2, err := q.Publish(t.Context(), event("ev-1"))
	if err != nil || !dup2 || seq2 != seq1 {
		t.Fatalf("second Publish = %d, %v, %v; want duplicate of %d", seq2, dup2, err, seq1)
	}
	if seq3 := publish(t, q, event("ev-2")); seq3 != seq1+1 {
		t.Errorf("another id got seq %d, want %d", seq3, seq1+1)
	}
	s, err := q.JetStream().Stream(t.Context(), queue.DefaultStream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs != 2 {
		t.Errorf("stream holds %d messages, want 2", info.State.Msgs)
	}
	if info.Config.Duplicates != queue.DefaultDuplicates {
		t.Errorf("duplicates window %s, want %s", info.Config.Duplicates, queue.DefaultDuplicates)
	}
}

func TestPublishRefusesEventWithoutID(t *testing.T) {
	q := connect(t, natsserver.Start(t), nil)
	if _, _, err := q.Publish(t.Context(), event("")); !errors.Is(err, queue.ErrNoEventID) {
		t.Errorf("Publish without id: %v, want ErrNoEventID", err)
	}
}

func TestSubject(t *testing.T) {
	q := connect(t, natsserver.Start(t), nil)
	for _, tc := range []struct{ source, typ, want string }{
		{"pagerduty", "incident.triggered", "alaya.events.pagerduty.incident.triggered"},
		{"alertmanager", "alert.firing", "alaya.events.alertmanager.alert.firing"},
		{"", "", "alaya.events.unknown.unknown"},
		{"a b", "x.*.>", "alaya.events.a_b.x._._"},
		{"web.hook", ".lead..double.", "alaya.events.web_hook._lead._double_"},
	} {
		got := q.Subject(&incident.Event{Source: tc.source, Type: tc.typ})
		if got != tc.want {
			t.Errorf("Subject(%q, %q) = %q, want %q", tc.source, tc.typ, got, tc.want)
		}
	}
}

// Receivers and workers start together and each creates what is missing: none may fail.
func TestConcurrentSetupSucceeds(t *testing.T) {
	// A server process: concurrent stream updates and consumer creates race inside an
	// embedded nats-server itself (its fileStore), which -race reports as this test's.
	srv := natsserver.StartProcess(t)
	const n = 6
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			q, err := queue.Connect(ctx, queue.Config{URLs: []string{srv.URL()}}, testLogger(t), prometheus.NewRegistry())
			if err == nil {
				_, _, err = q.Publish(ctx, event("same"))
				q.Close()
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("process %d: %v", i, err)
		}
	}
}

func TestReadyFollowsTheServer(t *testing.T) {
	srv := natsserver.Start(t)
	q := connect(t, srv, nil)
	if err := q.Ready(t.Context()); err != nil {
		t.Fatalf("Ready on a fresh queue: %v", err)
	}
	srv.Shutdown()
	eventually(t, "client to notice", func() bool { return !q.Conn().IsConnected() })
	if err := q.Ready(t.Context()); !errors.Is(err, queue.ErrNotConnected) {
		t.Errorf("Ready with NATS down: %v, want ErrNotConnected", err)
	}
	srv.Restart()
	eventually(t, "ready after restart", func() bool { return q.Ready(t.Context()) == nil })
	if _, _, err := q.Publish(t.Context(), event("after-restart")); err != nil {
		t.Errorf("Publish after restart: %v", err)
	}
}

func TestReadyWithoutStream(t *testing.T) {
	q := connect(t, natsserver.Start(t), nil)
	if err := q.JetStream().DeleteStream(t.Context(), queue.DefaultStream); err != nil {
		t.Fatal(err)
	}
	if err := q.Ready(t.Context()); err == nil {
		t.Error("Ready without the stream: nil error")
	}
}

func TestConfigRejectsWindowLongerThanMaxAge(t *testing.T) {
	_, err := queue.Connect(t.Context(), queue.Config{Duplicates: 2 * time.Hour, MaxAge: time.Hour}, nil, nil)
	if err == nil {
		t.Fatal("Connect accepted a duplicates window longer than max age")
	}
}

func TestBucketsExist(t *testing.T) {
	q := connect(t, natsserver.Start(t), func(c *queue.Config) { c.LeaseTTL = time.Minute })
	for _, name := range []string{queue.BucketRuns, queue.BucketApprovals, queue.BucketLeases} {
		kv, err := q.KV(t.Context(), name)
		if err != nil {
			t.Fatalf("KV(%s): %v", name, err)
		}
		if _, err := kv.Create(t.Context(), "k", []byte("v")); err != nil {
			t.Errorf("%s: Create: %v", name, err)
		}
	}
	st, err := q.Leases.Status(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if st.TTL() != time.Minute {
		t.Errorf("lease bucket TTL %s, want 1m", st.TTL())
	}
}
