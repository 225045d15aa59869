// Package servertime tells the time as the NATS server sees it. Workers compare moments that
// other workers wrote (an outbox claim, a cooldown, the window an action is counted in); if each
// used its own clock, a worker five minutes ahead would see a colleague's claim as expired and
// post the same note again. The server's clock is the one every worker can read.
//
// The server stamps every JetStream API answer ("ts" in a STREAM.INFO reply), so asking costs
// one read-only request and changes nothing. Between asks the clock advances by the local
// monotonic clock, which a wall-clock jump or skew does not move; it asks again every Refresh.
package servertime

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Refresh is how long one answer from the server is trusted before asking again: the local
// monotonic clock drifts by microseconds in that time.
const Refresh = 10 * time.Second

// Source asks the server for its time.
type Source func(ctx context.Context) (time.Time, error)

// Bucket is the part of a jetstream.KeyValue that FromKV needs.
type Bucket interface {
	Status(ctx context.Context) (jetstream.KeyValueStatus, error)
}

// FromKV asks through a KeyValue bucket: the timestamp on its stream's info.
func FromKV(kv Bucket) Source {
	return func(ctx context.Context) (time.Time, error) {
		st, err := kv.Status(ctx)
		if err != nil {
			return time.Time{}, fmt.Errorf("server time: %w", err)
		}
		bs, ok := st.(*jetstream.KeyValueBucketStatus)
		if !ok || bs.StreamInfo() == nil || bs.StreamInfo().TimeStamp.IsZero() {
			return time.Time{}, errors.New("server time: the server does not stamp its answers (nats-server 2.10 or later needed)")
		}
		return bs.StreamInfo().TimeStamp, nil
	}
}

// Clock is the server's time, for one process. It is safe for concurrent use.
type Clock struct {
	source Source
	local  func() time.Time // the worker's own clock; only its monotonic reading is used

	mu     sync.Mutex
	server time.Time // the server's last answer
	at     time.Time // local time at that answer
}

// New returns a clock that asks source.
func New(source Source) *Clock { return &Clock{source: source, local: time.Now} }

// WithLocal returns c reading local as the worker's own clock: tests give each worker a
// skewed one to prove nothing depends on it.
func (c *Clock) WithLocal(local func() time.Time) *Clock {
	c.local = local
	return c
}

// Now is the server's time now.
func (c *Clock) Now(ctx context.Context) (time.Time, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.at.IsZero() {
		if since := c.local().Sub(c.at); since >= 0 && since < Refresh {
			return c.server.Add(since), nil
		}
	}
	before := c.local()
	ts, err := c.source(ctx)
	if err != nil {
		return time.Time{}, err
	}
	after := c.local()
	// The server stamped its answer somewhere between our request and its arrival.
	c.server, c.at = ts, before.Add(after.Sub(before)/2)
	return c.server.Add(after.Sub(c.at)), nil
}

// Func adapts a function to the clock interface callers declare, for tests that step time.
type Func func() time.Time

// Now returns f().
func (f Func) Now(context.Context) (time.Time, error) { return f(), nil }
