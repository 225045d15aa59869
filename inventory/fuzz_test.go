package inventory

import (
	"testing"
)

// FuzzParse parses arbitrary bytes as an inventory. It must never panic, and an inventory it
// accepts keeps its promise to the executor: every host resolves by name, and every bastion
// on a host's route is a known bastion (no dangling or cyclic chain got through). Seeds:
// testdata/fuzz/FuzzParse (the good and bad fixtures).
func FuzzParse(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		inv, err := Parse("fuzz.yaml", data)
		if err != nil {
			return
		}
		for name, h := range inv.Hosts {
			got, err := inv.Lookup(name)
			if err != nil || got != h {
				t.Fatalf("host %q does not resolve to itself: %v", name, err)
			}
			// Walk the chain by hand with a bound: Route itself would spin on a loop.
			hops := 0
			for via := h.Bastion; via != ""; via = inv.Bastions[via].Via {
				if inv.Bastions[via] == nil || hops > len(inv.Bastions) {
					t.Fatalf("host %q routes through an unknown or looping bastion %q", name, via)
				}
				hops++
			}
		}
	})
}
