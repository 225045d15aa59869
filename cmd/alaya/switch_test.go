package main

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/alaya-sre/alaya/internal/testenv/natsserver"
	"github.com/alaya-sre/alaya/queue"
)

// A dry-run switched on must still be on after everything else Alaya keeps has expired, and
// after every restart: the runs bucket's TTL (30 days in production, one second here) once
// deleted the switches with the ledger, turning a month-long dry-run into real actions.
func TestSwitchesOutliveTheRunsTTLAndRestarts(t *testing.T) {
	srv := natsserver.Start(t)
	t.Setenv("ALAYA_NATS_URLS", srv.URL())
	t.Setenv("ALAYA_EVIDENCE_DIR", t.TempDir())
	// The ledger may not be shorter than the duplicates window: shorten both.
	cfg := queue.Config{URLs: []string{srv.URL()}, Duplicates: time.Second, RunsTTL: time.Second}
	daemon, err := queue.Connect(t.Context(), cfg, slog.New(slog.DiscardHandler), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer daemon.Close()
	switchCmd(t, "dry-run", "on")
	if _, err := daemon.Runs.Put(t.Context(), "canary", []byte("written after the switch")); err != nil {
		t.Fatal(err)
	}
	waitExpired(t, daemon.Runs, "canary")

	srv.Restart()
	again, err := queue.Connect(t.Context(), cfg, slog.New(slog.DiscardHandler), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	if out := switchCmd(t); !strings.Contains(out, "dry-run: on") {
		t.Fatalf("after the runs TTL and a restart the switches read:\n%s", out)
	}
}

// switchCmd runs alaya switch with args and returns its output.
func switchCmd(t *testing.T, args ...string) string {
	t.Helper()
	var out, errOut bytes.Buffer
	if code := run(t.Context(), append([]string{"switch"}, args...), &out, &errOut); code != 0 {
		t.Fatalf("alaya switch %s exited %d: %s", strings.Join(args, " "), code, errOut.String())
	}
	return out.String()
}

// waitExpired polls until the bucket's TTL has removed key: the server expires entries on its
// own schedule and announces nothing.
func waitExpired(t *testing.T, kv jetstream.KeyValue, key string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 15*time.Second)
	defer cancel()
	for {
		_, err := kv.Get(ctx, key)
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s never expired: %v", key, err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}
