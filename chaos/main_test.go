package chaos_test

import (
	"flag"
	"fmt"
	"os"
	"testing"

	"github.com/alaya-sre/alaya/internal/testenv/fleet"
)

var (
	full = flag.Bool("chaos.full", false, "run every scenario at its full count (docs/RELIABILITY.md); the default is CI's short round")
	keep = flag.Bool("chaos.keep", false, "keep the daemons' logs also when the scenario passes")
	bins fleet.Binaries
)

// TestMain builds the daemons once for every scenario.
func TestMain(m *testing.M) {
	flag.Parse()
	dir, err := os.MkdirTemp("", "alaya-chaos-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	bins, err = fleet.Build(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "chaos:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// count is n in a full run and short in CI's round.
func count(short, n int) int {
	if *full {
		return n
	}
	return short
}
