package executor_test

import (
	"testing"

	"github.com/alaya-sre/alaya/executor"
	"github.com/alaya-sre/alaya/internal/testenv/sshbed"
)

// BenchmarkRunThroughBastion measures one diagnostic command on a warm pooled connection
// through the bastion: the per-command cost once the handshakes are paid.
func BenchmarkRunThroughBastion(b *testing.B) {
	bed := sshbed.Start(b)
	inv := bed.Inventory(b)
	x := newSSH(b, inv)
	h := target(b, inv, bed)
	for b.Loop() {
		res, err := x.Run(b.Context(), h, "uname -a; uptime", executor.RunOptions{})
		if err != nil || res.ExitCode != 0 {
			b.Fatalf("%v exit %d", err, res.ExitCode)
		}
	}
}
