package outbox

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// silentList is a bucket whose listings never answer: a listing sent to a nats-server that
// has just died.
type silentList struct{ Store }

func (silentList) ListKeysFiltered(context.Context, ...string) (jetstream.KeyLister, error) {
	return silentLister{make(chan string)}, nil
}

type silentLister struct{ ch chan string }

func (l silentLister) Keys() <-chan string { return l.ch }
func (silentLister) Stop() error           { return nil }

// A sweep whose listing is never answered ends within its bound, so the sweeper goes on to
// its next turn instead of waiting for as long as the worker lives.
func TestSweepListingIsBoundedOnItsOwn(t *testing.T) {
	old := listTimeout
	listTimeout = 200 * time.Millisecond
	defer func() { listTimeout = old }()
	o := New(silentList{outboxKV(t)}, nil, slog.New(slog.DiscardHandler), nil)
	done := make(chan struct{})
	go func() { o.Sweep(context.Background()); close(done) }()
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatal("the sweep was still waiting for its listing after a minute")
	}
}
