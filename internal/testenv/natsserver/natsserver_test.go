package natsserver_test

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/alaya-sre/alaya/internal/testenv/natsserver"
)

func TestRestartKeepsPortAndStreams(t *testing.T) {
	srv := natsserver.Start(t)
	url := srv.URL()
	nc, err := nats.Connect(url, nats.MaxReconnects(-1), nats.ReconnectWait(20*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := js.Publish(ctx, "s.1", []byte("kept")); err != nil {
		t.Fatal(err)
	}
	srv.Restart()
	if srv.URL() != url {
		t.Errorf("URL changed from %s to %s", url, srv.URL())
	}
	var msg *jetstream.RawStreamMsg
	for msg == nil && ctx.Err() == nil { // the client reconnects on its own schedule
		if s, err := js.Stream(ctx, "S"); err == nil {
			msg, _ = s.GetMsg(ctx, 1)
		}
	}
	if msg == nil || string(msg.Data) != "kept" {
		t.Fatalf("message after restart: %+v", msg)
	}
}
