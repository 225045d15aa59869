package ledger_test

import (
	"errors"
	"testing"
	"time"

	"github.com/alaya-sre/alaya/ledger"
)

// A run whose owner stopped writing is taken over once the stale time has passed on the
// server's clock; a run its handler let go is taken over at once.
func TestDeadOrReleasedOwnerIsTakenOver(t *testing.T) {
	kv := bucket(t)
	l := ledger.New(kv, "w", time.Second) // long enough that Begin to Takeover never spans it
	h, _, err := l.Begin(t.Context(), ledger.Record{ID: "dead"})
	if err != nil {
		t.Fatal(err)
	}
	var busy *ledger.Busy
	if _, err := l.Takeover(t.Context(), "dead"); !errors.As(err, &busy) || busy.Wait <= 0 {
		t.Fatalf("fresh owner: err = %v, want *Busy with a wait", err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		nh, err := l.Takeover(t.Context(), "dead")
		if err == nil {
			if _, err := nh.Adopt(t.Context()); err != nil {
				t.Fatal(err)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a dead owner's run was never taken over: %v", err)
		}
		time.Sleep(busy.Wait) // the time the ledger itself says to wait
	}
	if err := h.Update(t.Context(), func(*ledger.Record) {}); !errors.Is(err, ledger.ErrLost) {
		t.Fatalf("the old owner's write after the takeover: err = %v, want ErrLost", err)
	}
	h2, _, err := l.Begin(t.Context(), ledger.Record{ID: "let-go"})
	if err != nil {
		t.Fatal(err)
	}
	if err := h2.Release(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Takeover(t.Context(), "let-go"); err != nil {
		t.Fatalf("a released run is not taken over at once: %v", err)
	}
}

// Telling a live owner from a dead one reads the server's clock without writing: a busy check
// or a sweep leaves nothing in the bucket but the runs (it used to write a clock key per
// worker, and read it back from whichever replica answered).
func TestLivenessChecksWriteNothing(t *testing.T) {
	kv := bucket(t)
	l := ledger.New(kv, "w", time.Minute)
	if _, _, err := l.Begin(t.Context(), ledger.Record{ID: "live"}); err != nil {
		t.Fatal(err)
	}
	var busy *ledger.Busy
	if _, err := l.Takeover(t.Context(), "live"); !errors.As(err, &busy) {
		t.Fatalf("fresh owner: err = %v, want *Busy", err)
	}
	if _, err := l.Silent(t.Context(), time.Hour); err != nil {
		t.Fatal(err)
	}
	keys, err := kv.Keys(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 1 || keys[0] != "run.live" {
		t.Errorf("keys after liveness checks: %q, want only the run", keys)
	}
}
