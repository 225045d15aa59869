package main

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/alaya-sre/alaya/internal/testenv/natsserver"
	"github.com/alaya-sre/alaya/queue"
	"github.com/alaya-sre/alaya/safety"
)

// A host held after an unknown outcome is listed with the run and step to check, and stays
// held until a person clears it.
func TestHoldsListAndClear(t *testing.T) {
	srv := natsserver.Start(t)
	t.Setenv("ALAYA_NATS_URLS", srv.URL())
	t.Setenv("ALAYA_EVIDENCE_DIR", t.TempDir())
	daemon, err := queue.Connect(t.Context(), queue.Config{URLs: []string{srv.URL()}}, slog.New(slog.DiscardHandler), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer daemon.Close()
	g := safety.New(daemon.Leases, daemon.Runs, daemon.Switches)
	if err := g.HoldHost(t.Context(), safety.Hold{Host: "app-3", Run: "r1", Step: "2/app-3", Reason: "cut off", Since: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if out := holdsCmd(t); !strings.Contains(out, "app-3") || !strings.Contains(out, "2/app-3") {
		t.Fatalf("alaya holds does not list the held host:\n%s", out)
	}
	holdsCmd(t, "clear", "app-3")
	if out := holdsCmd(t); strings.Contains(out, "app-3") {
		t.Fatalf("the host is still held after clear:\n%s", out)
	}
	if h, err := g.Held(t.Context(), "app-3"); err != nil || h != nil {
		t.Fatalf("held after clear: %+v %v", h, err)
	}
}

func holdsCmd(t *testing.T, args ...string) string {
	t.Helper()
	var out, errOut bytes.Buffer
	if code := run(t.Context(), append([]string{"holds"}, args...), &out, &errOut); code != 0 {
		t.Fatalf("alaya holds %s exited %d: %s", strings.Join(args, " "), code, errOut.String())
	}
	return out.String()
}
