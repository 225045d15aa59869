package app

import (
	"testing"
	"time"
)

// A crashed worker's event comes back at least 2/3 of the ack wait after its last ledger
// write; the run must be stale by then, or the redelivery is told the run executes elsewhere
// and the run is never taken over. The heartbeat must leave room for missed beats.
func TestRunLivenessFitsTheAckWait(t *testing.T) {
	for _, ackWait := range []time.Duration{2 * time.Second, 5 * time.Second, 30 * time.Second, 5 * time.Minute} {
		hb, stale := runLiveness(ackWait)
		if stale >= ackWait*2/3 {
			t.Errorf("ack wait %s: stale %s is not below 2/3 of it", ackWait, stale)
		}
		if stale < 3*hb {
			t.Errorf("ack wait %s: stale %s allows fewer than three missed %s heartbeats", ackWait, stale, hb)
		}
	}
}
