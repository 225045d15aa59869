package approval_test

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/alaya-sre/alaya/approval"
)

// silentWatch is a bucket whose watches never deliver anything: a watch request sent to a
// nats-server that has just died is never answered.
type silentWatch struct{ jetstream.KeyValue }

func (silentWatch) Watch(context.Context, string, ...jetstream.WatchOpt) (jetstream.KeyWatcher, error) {
	return silentWatcher{make(chan jetstream.KeyValueEntry)}, nil
}

type silentWatcher struct{ ch chan jetstream.KeyValueEntry }

func (w silentWatcher) Updates() <-chan jetstream.KeyValueEntry { return w.ch }
func (silentWatcher) Stop() error                               { return nil }

// A scan whose watch is never answered ends with an error within its bound, even when the
// caller's context (a run handler's: an hour) would wait much longer.
func TestScanIsBoundedOnItsOwn(t *testing.T) {
	defer approval.SetScanTimeout(approval.SetScanTimeout(200 * time.Millisecond))
	s := approval.NewStore(silentWatch{newKV(t)}, newClock().Now)
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	done := make(chan error, 1)
	go func() { _, err := s.Pending(ctx, "Q1SCAN"); done <- err }()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("a scan nobody answered returned no error")
		}
	case <-time.After(time.Minute):
		t.Fatal("the scan was still waiting after a minute")
	}
}
