package servertime_test

import (
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/alaya-sre/alaya/internal/servertime"
	"github.com/alaya-sre/alaya/internal/testenv/natsserver"
)

// Two workers whose own clocks are ten minutes apart read the same server time.
func TestWorkersWithSkewedClocksAgree(t *testing.T) {
	srv := natsserver.Start(t)
	nc, err := nats.Connect(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	kv, err := js.CreateKeyValue(t.Context(), jetstream.KeyValueConfig{Bucket: "b"})
	if err != nil {
		t.Fatal(err)
	}
	ahead := servertime.New(servertime.FromKV(kv)).WithLocal(func() time.Time { return time.Now().Add(5 * time.Minute) })
	behind := servertime.New(servertime.FromKV(kv)).WithLocal(func() time.Time { return time.Now().Add(-5 * time.Minute) })
	a, err := ahead.Now(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	b, err := behind.Now(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	// Each estimate is off by up to half its round trip, so b may read a moment before a.
	if d := b.Sub(a); d < -time.Second || d > time.Second {
		t.Errorf("the workers disagree by %s", d)
	}
	if d := time.Since(a); d < -time.Second || d > time.Second {
		t.Errorf("server time is %s away from this machine's clock, which the server shares", d)
	}
	again, _ := ahead.Now(t.Context()) // from the cache, advanced by the monotonic clock
	if again.Before(a) {
		t.Errorf("server time went backwards: %v then %v", a, again)
	}
}
