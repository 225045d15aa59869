package remediate_test

import (
	"strings"
	"testing"
	"time"

	"github.com/alaya-sre/alaya/safety"
)

// A replay counts towards storm mode only if it starts a new run. The replay here arrives in a
// later storm window (simulated by clearing the window's keys, as their TTL would): it finds
// its run in the ledger, so it must not count as an incoming incident.
func TestReplaysDoNotCountTowardsAStorm(t *testing.T) {
	b := newBed(t)
	withSafety(b, safety.Limits{StormIncidents: 100, StormWindow: time.Hour})
	p := b.newP("w1")
	b.park(t, p, "PSTORM1")
	clearStormWindow(t, b)
	handle(t, p, triggered("PSTORM1"))
	if keys := stormKeys(t, b); len(keys) != 0 {
		t.Errorf("the replay of a run that exists was counted towards a storm: %v", keys)
	}
}

func stormKeys(t *testing.T, b *bed) []string {
	t.Helper()
	lister, err := b.runs.ListKeys(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for k := range lister.Keys() {
		if strings.HasPrefix(k, "seen.") || strings.HasPrefix(k, "window.incidents.") {
			out = append(out, k)
		}
	}
	return out
}

func clearStormWindow(t *testing.T, b *bed) {
	t.Helper()
	for _, k := range stormKeys(t, b) {
		if err := b.runs.Purge(t.Context(), k); err != nil {
			t.Fatal(err)
		}
	}
}
