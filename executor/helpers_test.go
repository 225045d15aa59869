package executor_test

import (
	"log/slog"
	"testing"

	"github.com/alaya-sre/alaya/executor"
	"github.com/alaya-sre/alaya/internal/testenv/sshbed"
	"github.com/alaya-sre/alaya/inventory"
)

// newSSH returns an SSH executor over inv, closed when the test ends (before the bed stops).
func newSSH(t testing.TB, inv *inventory.Inventory, opts ...executor.Option) *executor.SSH {
	t.Helper()
	logger := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
	x := executor.NewSSH(inv, logger, opts...)
	t.Cleanup(func() { x.Close() })
	return x
}

// target returns the inventory entry of the bed's first target.
func target(t testing.TB, inv *inventory.Inventory, bed *sshbed.Bed) *inventory.Host {
	t.Helper()
	h, err := inv.Lookup(bed.Target().Name)
	if err != nil {
		t.Fatal(err)
	}
	return h
}
