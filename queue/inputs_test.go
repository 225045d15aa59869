package queue_test

import (
	"strings"
	"testing"
	"time"

	"github.com/alaya-sre/alaya/queue"
)

// The run ledger must outlive the stream's de-duplication window: a replay the stream no
// longer recognises is stopped only by the ledger remembering its run.
func TestConfigRejectsLedgerShorterThanWindow(t *testing.T) {
	_, err := queue.Connect(t.Context(), queue.Config{Duplicates: 72 * time.Hour, RunsTTL: 24 * time.Hour}, nil, nil)
	if err == nil || !strings.Contains(err.Error(), "run ledger") {
		t.Fatalf("Connect accepted a run ledger TTL shorter than the duplicates window: %v", err)
	}
}
