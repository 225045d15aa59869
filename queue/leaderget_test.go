package queue_test

import (
	"errors"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/alaya-sre/alaya/internal/testenv/natsserver"
)

// The daemons' buckets allow direct gets (nats.go creates every bucket so), which any replica
// answers, a lagging follower included. A read that decides something (a run's owner, an
// approval's state, a lease, a switch) is answered by the stream's leader instead: no direct
// get is sent, and the value is the last one written.
func TestBucketReadsAreAnsweredByTheLeader(t *testing.T) {
	srv := natsserver.Start(t)
	q := connect(t, srv, nil)
	nc, err := nats.Connect(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	direct, err := nc.SubscribeSync("$JS.API.DIRECT.GET.>")
	if err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	for _, kv := range []jetstream.KeyValue{q.Runs, q.Approvals, q.Leases, q.Switches} {
		st, err := kv.Status(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !st.(*jetstream.KeyValueBucketStatus).StreamInfo().Config.AllowDirect {
			t.Fatalf("%s: the bucket does not allow direct gets; this test proves nothing", kv.Bucket())
		}
		if _, err := kv.Put(ctx, "k", []byte("v1")); err != nil {
			t.Fatal(err)
		}
		rev, err := kv.Put(ctx, "k", []byte("v2"))
		if err != nil {
			t.Fatal(err)
		}
		e, err := kv.Get(ctx, "k")
		if err != nil || string(e.Value()) != "v2" || e.Revision() != rev || e.Created().IsZero() || e.Key() != "k" {
			t.Fatalf("%s: Get = %v, %v; want v2 at revision %d", kv.Bucket(), e, err, rev)
		}
		if _, err := kv.Get(ctx, "missing"); !errors.Is(err, jetstream.ErrKeyNotFound) {
			t.Fatalf("%s: Get of a missing key: %v", kv.Bucket(), err)
		}
		if err := kv.Delete(ctx, "k"); err != nil {
			t.Fatal(err)
		}
		if _, err := kv.Get(ctx, "k"); !errors.Is(err, jetstream.ErrKeyNotFound) {
			t.Fatalf("%s: Get of a deleted key: %v", kv.Bucket(), err)
		}
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	if n, _, _ := direct.Pending(); n != 0 {
		m, _ := direct.NextMsg(0)
		t.Errorf("%d reads were direct gets, which a follower may answer (first: %s)", n, m.Subject)
	}
}
