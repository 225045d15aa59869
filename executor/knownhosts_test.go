package executor_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/alaya-sre/alaya/executor"
	"github.com/alaya-sre/alaya/internal/testenv/sshbed"
)

// TestKnownHostsChangesTakeEffectWithoutRestart: known_hosts is the operator's lever when a
// host key is compromised. Revoking the target's key (an @revoked line) must stop the next
// command, on a connection made before the change too, without restarting the worker; an
// unrelated edit must not cost a new login; undoing the revocation lets the host back in.
func TestKnownHostsChangesTakeEffectWithoutRestart(t *testing.T) {
	t.Parallel()
	bed := sshbed.Start(t)
	inv := bed.Inventory(t)
	file := filepath.Join(t.TempDir(), "target.known_hosts")
	original, err := os.ReadFile(bed.Target().KnownHosts)
	if err != nil {
		t.Fatal(err)
	}
	write := func(content string) {
		t.Helper()
		if err := os.WriteFile(file, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(string(original))
	inv.Hosts["target-1"].KnownHosts = file
	x := newSSH(t, inv, executor.WithKeepalive(0))
	h := target(t, inv, bed)
	run := func() (*executor.Result, error) { return x.Run(t.Context(), h, "echo ran", executor.RunOptions{}) }

	if _, err := run(); err != nil {
		t.Fatal(err)
	}
	other := "[192.0.2.99]:2222 " + strings.TrimSpace(string(ssh.MarshalAuthorizedKey(bed.Bastion.HostKeys[0])))
	write(string(original) + other + "\n")
	if _, err := run(); err != nil {
		t.Fatalf("after an unrelated edit: %v", err)
	}
	if n := x.Stats().TargetDials; n != 1 {
		t.Errorf("an unrelated known_hosts edit cost a new login (%d target logins)", n)
	}

	revoked := "@revoked * " + strings.TrimSpace(string(ssh.MarshalAuthorizedKey(bed.Target().HostKeys[0])))
	write(string(original) + revoked + "\n")
	res, err := run()
	if !errors.Is(err, executor.ErrHostKey) || executor.Retryable(err) {
		t.Fatalf("after revoking the target's key: %v (stdout %q); want a permanent ErrHostKey", err, res.Stdout)
	}
	if !strings.Contains(err.Error(), "revoked") {
		t.Errorf("the error does not say the key is revoked: %v", err)
	}

	write(string(original))
	if res, err := run(); err != nil || string(res.Stdout) != "ran\n" {
		t.Fatalf("after undoing the revocation: %v %q", err, res.Stdout)
	}
}
