package sshbed

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// SSHConfig writes an OpenSSH client config naming every node as the inventory does
// (bastion-1, target-1, ...), each target with ProxyJump through the bastion, for the bare
// `ssh -F CONFIG target-1 CMD` that benchmarks compare Alaya with. Each hop has its own user,
// key and known_hosts: with -J, command-line -i and -o would not reach the jump hop.
func (b *Bed) SSHConfig(tb testing.TB) string {
	tb.Helper()
	var sb strings.Builder
	host := func(n *Node, jump string) {
		fmt.Fprintf(&sb, "Host %s\n  HostName %s\n  Port %d\n  User %s\n  IdentityFile %s\n  UserKnownHostsFile %s\n",
			n.Name, n.Addr, n.Port, n.User, n.KeyFile, n.KnownHosts)
		if jump != "" {
			fmt.Fprintf(&sb, "  ProxyJump %s\n", jump)
		}
	}
	host(b.Bastion, "")
	for _, t := range b.Targets {
		host(t, b.Bastion.Name)
	}
	sb.WriteString("Host *\n  StrictHostKeyChecking yes\n  BatchMode yes\n  IdentitiesOnly yes\n")
	path := filepath.Join(tb.TempDir(), "ssh_config")
	if err := os.WriteFile(path, []byte(sb.String()), 0o600); err != nil {
		tb.Fatal(err)
	}
	return path
}

// Connections counts the TCP connections established to n's sshd, as `ss` inside its
// namespace sees them: for the bastion, one per client holding a connection through it.
func (b *Bed) Connections(ctx context.Context, n *Node) (int, error) {
	out, err := b.Command(ctx, n, "ss", "-Htn", "state", "established", fmt.Sprintf("( sport = :%d )", n.Port)).Output()
	if err != nil {
		return 0, fmt.Errorf("sshbed: ss in %s: %w", n.Namespace, err)
	}
	return strings.Count(string(out), "\n"), nil
}
