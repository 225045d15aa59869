package app

import (
	"context"
	"log/slog"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/alaya-sre/alaya/internal/testenv/natsserver"
)

type idPoster struct{ id string }

func (p idPoster) AddNote(context.Context, string, string) (string, error) { return p.id, nil }

// Every note Alaya posts is recorded by id, in the runs bucket, where the approval flow asks.
func TestPostedNotesAreRecorded(t *testing.T) {
	srv := natsserver.Start(t)
	nc, err := nats.Connect(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, _ := jetstream.New(nc)
	kv, err := js.CreateKeyValue(t.Context(), jetstream.KeyValueConfig{Bucket: "runs"})
	if err != nil {
		t.Fatal(err)
	}
	p := &postedNotes{next: idPoster{"PNOTE01"}, kv: kv, log: slog.New(slog.DiscardHandler)}
	if id, err := p.AddNote(t.Context(), "PINC1", "Alaya · hello"); err != nil || id != "PNOTE01" {
		t.Fatalf("AddNote = %q, %v", id, err)
	}
	if !p.Posted(t.Context(), "PNOTE01") || p.Posted(t.Context(), "PNOTE02") || p.Posted(t.Context(), "") {
		t.Fatal("Posted does not tell Alaya's notes from others")
	}
}
