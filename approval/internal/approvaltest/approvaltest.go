// Package approvaltest gives the approval packages' tests a real JetStream KeyValue bucket and
// a hand-moved clock. The compare-and-swap guarantees are JetStream's, so the tests need the
// real server; internal/testenv/natsserver does the same for the rest of the project, this
// package keeps its own few lines so the approval tests depend on nothing in progress.
package approvaltest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// NewKV starts an embedded JetStream server for the test and returns a fresh
// "alaya_approvals" bucket. Everything is torn down by the test's cleanup.
func NewKV(tb testing.TB) jetstream.KeyValue {
	tb.Helper()
	s, err := server.NewServer(&server.Options{
		Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: tb.TempDir(), NoLog: true, NoSigs: true,
	})
	if err != nil {
		tb.Fatalf("nats server: %v", err)
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		tb.Fatal("nats server not ready")
	}
	tb.Cleanup(func() { s.Shutdown(); s.WaitForShutdown() })
	nc, err := nats.Connect(s.ClientURL())
	if err != nil {
		tb.Fatalf("nats connect: %v", err)
	}
	tb.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		tb.Fatalf("jetstream: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	kv, err := js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: "alaya_approvals", History: 5})
	if err != nil {
		tb.Fatalf("create bucket: %v", err)
	}
	return kv
}

// Clock is an injected time source the test moves by hand, so expiry is tested without sleeps.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock starts at a fixed instant.
func NewClock() *Clock { return &Clock{t: time.Date(2026, 3, 14, 3, 0, 0, 0, time.UTC)} }

// Now is the clock's current time; pass the method value as a `now func() time.Time`.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}
