package sshbed

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"runtime"

	"golang.org/x/sys/unix"
)

// Addresses: slot N owns 198.18.N.0/24. The host and the bastion share 198.18.N.0/30 (.1 and
// .2); target i (from 1) and the bastion share 198.18.N.4i/30 (bastion .4i+1, target .4i+2).
// The host routes the /24 via the bastion, whose ip_forward is 0: a packet from the host
// to a target reaches the bastion and is dropped there, as a real bastion would.
const maxTargets = 63

func slotAddr(n, last int) string { return fmt.Sprintf("198.18.%d.%d", n, last) }

// network builds the namespaces, links and routes of slot s for nTargets targets.
func (s *slot) network(nTargets int) error {
	b := s.bastionNS()
	hostIf := s.hostIf()
	cmds := [][]string{
		{"netns", "add", b},
		{"link", "add", hostIf, "type", "veth", "peer", "name", "eth0", "netns", b},
		{"addr", "add", slotAddr(s.n, 1) + "/30", "dev", hostIf},
		{"link", "set", hostIf, "up"},
		{"-n", b, "addr", "add", slotAddr(s.n, 2) + "/30", "dev", "eth0"},
		{"-n", b, "link", "set", "eth0", "up"},
		{"-n", b, "link", "set", "lo", "up"},
	}
	for i := 1; i <= nTargets; i++ {
		t, bIf := s.targetNS(i), fmt.Sprintf("t%d", i)
		cmds = append(cmds,
			[]string{"netns", "add", t},
			[]string{"-n", b, "link", "add", bIf, "type", "veth", "peer", "name", "eth0", "netns", t},
			[]string{"-n", b, "addr", "add", slotAddr(s.n, 4*i+1) + "/30", "dev", bIf},
			[]string{"-n", b, "link", "set", bIf, "up"},
			[]string{"-n", t, "addr", "add", slotAddr(s.n, 4*i+2) + "/30", "dev", "eth0"},
			[]string{"-n", t, "link", "set", "eth0", "up"},
			[]string{"-n", t, "link", "set", "lo", "up"},
		)
	}
	cmds = append(cmds, []string{"route", "add", fmt.Sprintf("198.18.%d.0/24", s.n), "via", slotAddr(s.n, 2)})
	for _, c := range cmds {
		if err := run("ip", c...); err != nil {
			return err
		}
	}
	// Explicit, whatever the kernel's default for new namespaces: the bastion must not route.
	return run("ip", "netns", "exec", b, "sysctl", "-qw", "net.ipv4.ip_forward=0")
}

func (s *slot) hostIf() string        { return fmt.Sprintf("alh-%d", s.n) }
func (s *slot) bastionNS() string     { return fmt.Sprintf("alaya-b-%d", s.n) }
func (s *slot) targetNS(i int) string { return fmt.Sprintf("alaya-t%d-%d", i, s.n) }

// deleteNetwork removes the host's veth (with it the host route) and the namespaces. The veth
// goes first and explicitly: a deleted namespace is torn down asynchronously, and its veth
// would otherwise linger in the host namespace and collide with the slot's next user.
func (s *slot) deleteNetwork(nTargets int) error {
	first := run("ip", "link", "del", s.hostIf())
	for i := 1; i <= nTargets; i++ {
		if err := run("ip", "netns", "del", s.targetNS(i)); err != nil && first == nil {
			first = err
		}
	}
	if err := run("ip", "netns", "del", s.bastionNS()); err != nil && first == nil {
		first = err
	}
	return first
}

// inNetns runs fn on an OS thread that has joined network namespace ns. Sockets fn creates
// belong to ns and may be used from any goroutine afterwards. If the thread cannot return to
// its own namespace it stays locked and the runtime retires it with the goroutine.
func inNetns(ns string, fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		self, err := os.Open("/proc/thread-self/ns/net")
		if err != nil {
			errc <- err
			return
		}
		defer self.Close()
		target, err := os.Open("/run/netns/" + ns)
		if err != nil {
			errc <- err
			return
		}
		defer target.Close()
		if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("sshbed: setns %s: %w", ns, err)
			return
		}
		ferr := fn()
		if unix.Setns(int(self.Fd()), unix.CLONE_NEWNET) == nil {
			runtime.UnlockOSThread()
		}
		errc <- ferr
	}()
	return <-errc
}

// dialIn dials addr from inside namespace ns.
func dialIn(ctx context.Context, ns, addr string) (net.Conn, error) {
	var c net.Conn
	err := inNetns(ns, func() error {
		var d net.Dialer
		var err error
		c, err = d.DialContext(ctx, "tcp", addr)
		return err
	})
	return c, err
}

// command returns name args run inside namespace ns.
func command(ctx context.Context, ns, name string, args ...string) *exec.Cmd {
	return exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", ns, name}, args...)...)
}
