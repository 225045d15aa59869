// Package sshbed starts real OpenSSH servers in network namespaces for tests: a bastion
// reachable from the test process and targets reachable only through the bastion, as in
// production. Tests that talk SSH through it prove host-key checks, per-hop credentials,
// connection reuse and session limits against the real sshd, not a mock that agrees with us.
//
// It needs root, /usr/sbin/sshd and ip (iproute2); without them a test is skipped on a
// developer machine and fails in CI (see testenv.Require). Namespaces isolate only the
// network: the nodes share the file system, users and processes with the test.
package sshbed

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/alaya-sre/alaya/internal/testenv"
	"github.com/alaya-sre/alaya/inventory"
)

// Bed is a running bastion with its targets.
type Bed struct {
	Bastion *Node
	Targets []*Node // target-1, target-2, ...
	Dir     string  // client-side files: keys, known_hosts, inventory (the test's temp dir)
	Slot    int

	slot *slot
}

// Node is one SSH server: the bastion or a target.
type Node struct {
	Name       string // name in the inventory: bastion-1, target-1, ...
	Namespace  string // network namespace, for ip netns exec
	Addr       string // IP address: from the host for the bastion, from the bastion for targets
	Port       int
	Peer       string // where connections to it come from: the host for the bastion, the bastion for a target
	User       string
	KeyFile    string          // private key User logs in with
	KnownHosts string          // known_hosts listing this node's Ed25519 key only
	HostKeys   []ssh.PublicKey // what sshd offers: Ed25519 first, then ECDSA
	PID        int             // sshd's listener
	LogFile    string          // sshd's log

	dir    string // server-side: config, host keys, authorized_keys
	config string
	exited chan struct{}
}

// SSHAddr is the node's host:port.
func (n *Node) SSHAddr() string { return net.JoinHostPort(n.Addr, fmt.Sprint(n.Port)) }

// Option changes what Start builds.
type Option func(*options)

type options struct{ targets int }

// Targets sets how many targets sit behind the bastion (default 1, at most 63): later tests
// need a load balancer and application hosts.
func Targets(n int) Option { return func(o *options) { o.targets = n } }

// Start builds the namespaces, starts one sshd per node, waits until they accept connections
// and registers the clean-up of everything it made. Every node offers an Ed25519 and an
// ECDSA host key while its known_hosts lists only the Ed25519 one, as after a key rotation,
// so a client that does not pick its host key algorithm from known_hosts fails here.
func Start(tb testing.TB, opts ...Option) *Bed {
	tb.Helper()
	o := options{targets: 1}
	for _, opt := range opts {
		opt(&o)
	}
	if o.targets < 1 || o.targets > maxTargets {
		tb.Fatalf("sshbed: %d targets, want 1 to %d", o.targets, maxTargets)
	}
	requirePrerequisites(tb)
	b := &Bed{Dir: tb.TempDir()}
	if err := withGlobalLock(b.claim); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { b.cleanup(tb, o.targets) })
	b.Slot = b.slot.n
	if err := b.slot.network(o.targets); err != nil {
		tb.Fatal(err)
	}
	b.Bastion = b.node(tb, "bastion-1", b.slot.bastionNS(), slotAddr(b.slot.n, 2), BastionUser, true)
	b.Bastion.Peer = slotAddr(b.slot.n, 1)
	for i := 1; i <= o.targets; i++ {
		t := b.node(tb, fmt.Sprintf("target-%d", i), b.slot.targetNS(i), slotAddr(b.slot.n, 4*i+2), TargetUser, false)
		t.Peer = slotAddr(b.slot.n, 4*i+1)
		b.Targets = append(b.Targets, t)
	}
	b.startAll(tb)
	return b
}

func requirePrerequisites(tb testing.TB) {
	tb.Helper()
	testenv.Require(tb, "root (network namespaces, sshd)", os.Geteuid() == 0)
	_, err := os.Stat(sshdPath)
	testenv.Require(tb, sshdPath+" (apt-get install openssh-server)", err == nil)
	for _, tool := range []string{"ip", "useradd", "usermod"} {
		_, err := exec.LookPath(tool)
		testenv.Require(tb, tool, err == nil)
	}
}

// claim takes a slot, makes the login users and the blackhole route. Global lock held.
func (b *Bed) claim() error {
	s, err := claimSlot()
	if err != nil {
		return err
	}
	b.slot = s
	for _, u := range []string{BastionUser, TargetUser} {
		if err := ensureUser(u); err != nil {
			return err
		}
	}
	return addBlackhole()
}

// node generates one node's host keys, client key, known_hosts and sshd configuration.
func (b *Bed) node(tb testing.TB, name, ns, addr, user string, bastion bool) *Node {
	tb.Helper()
	n := &Node{Name: name, Namespace: ns, Addr: addr, Port: 22, User: user, dir: filepath.Join(b.slot.dir, name)}
	if err := os.MkdirAll(n.dir, 0o755); err != nil {
		tb.Fatal(err)
	}
	n.LogFile = filepath.Join(n.dir, "sshd.log")
	_, ed := writePrivateKey(tb, filepath.Join(n.dir, "ssh_host_ed25519_key"), mustEd25519(tb))
	ec := newECDSAKeyFile(tb, filepath.Join(n.dir, "ssh_host_ecdsa_key"))
	n.HostKeys = []ssh.PublicKey{ed, ec}
	var pub ssh.PublicKey
	n.KeyFile, pub = NewKeyFile(tb, b.Dir, name+".key")
	writeFile(tb, filepath.Join(n.dir, "authorized_keys"), 0o644, strings.TrimSpace(string(ssh.MarshalAuthorizedKey(pub))))
	n.KnownHosts = writeFile(tb, filepath.Join(b.Dir, name+".known_hosts"), 0o644, knownHostsLine(addr, n.Port, ed))
	n.config = sshdConfig(n, bastion)
	return n
}

// startAll starts every sshd and waits for them: the bastion from the host, each target from
// inside the bastion's namespace, which is the only place it can be reached from.
func (b *Bed) startAll(tb testing.TB) {
	tb.Helper()
	for _, n := range b.nodes() {
		if err := b.slot.startSSHD(n); err != nil {
			tb.Fatal(err)
		}
	}
	if err := b.Bastion.waitReady("", 10*time.Second); err != nil {
		tb.Fatal(err)
	}
	for _, t := range b.Targets {
		if err := t.waitReady(b.Bastion.Namespace, 10*time.Second); err != nil {
			tb.Fatal(err)
		}
	}
}

func (b *Bed) nodes() []*Node { return append([]*Node{b.Bastion}, b.Targets...) }

// cleanup stops the servers and removes namespaces, server files, the slot and, if this was
// the last bed on the machine, the blackhole route. On failure it logs the sshd logs first.
func (b *Bed) cleanup(tb testing.TB, nTargets int) {
	if b.slot == nil {
		return
	}
	for _, n := range b.nodes() {
		if n == nil {
			continue
		}
		if tb.Failed() {
			tb.Logf("sshbed: %s sshd log:\n%s", n.Name, n.logTail())
		}
		n.stop()
	}
	if err := b.slot.deleteNetwork(nTargets); err != nil {
		tb.Errorf("sshbed: %v", err)
	}
	if err := withGlobalLock(b.slot.release); err != nil {
		tb.Errorf("sshbed: %v", err)
	}
}

// Target returns target-1.
func (b *Bed) Target() *Node { return b.Targets[0] }

// InventoryYAML is an inventory with bastion-1 and every target behind it, each hop with its
// own user, key and known_hosts.
func (b *Bed) InventoryYAML() []byte {
	var sb strings.Builder
	sb.WriteString("defaults:\n  connect_timeout: 5s\n  max_sessions: 8\nbastions:\n")
	writeEndpoint(&sb, b.Bastion)
	sb.WriteString("hosts:\n")
	for _, t := range b.Targets {
		writeEndpoint(&sb, t)
		fmt.Fprintf(&sb, "    bastion: %s\n    labels: {testbed: %q}\n", b.Bastion.Name, "sshbed")
	}
	return []byte(sb.String())
}

func writeEndpoint(sb *strings.Builder, n *Node) {
	fmt.Fprintf(sb, "  - name: %s\n    address: %s\n    port: %d\n    user: %s\n    key: %s\n    known_hosts: %s\n",
		n.Name, n.Addr, n.Port, n.User, n.KeyFile, n.KnownHosts)
}

// Inventory parses InventoryYAML with inventory.Parse. Each call returns a fresh copy that the
// test may change (point a host at WrongKnownHosts, say).
func (b *Bed) Inventory(tb testing.TB) *inventory.Inventory {
	tb.Helper()
	inv, err := inventory.Parse(filepath.Join(b.Dir, "inventory.yaml"), b.InventoryYAML())
	if err != nil {
		tb.Fatal(err)
	}
	return inv
}

// WrongKnownHosts writes a known_hosts file that lists n's address with a key n does not have,
// as after a man in the middle or a rebuilt host, and returns its path.
func (b *Bed) WrongKnownHosts(tb testing.TB, n *Node) string {
	tb.Helper()
	_, pub := writePrivateKey(tb, filepath.Join(b.Dir, n.Name+".impostor.key"), mustEd25519(tb))
	return writeFile(tb, filepath.Join(b.Dir, n.Name+".wrong.known_hosts"), 0o644, knownHostsLine(n.Addr, n.Port, pub))
}

// Command returns name args to be run inside n's network namespace.
func (b *Bed) Command(ctx context.Context, n *Node, name string, args ...string) *exec.Cmd {
	return command(ctx, n.Namespace, name, args...)
}

// DialFrom connects to addr from inside n's network namespace (from the bastion, a target's
// SSH port is reachable; from the host it is not).
func (b *Bed) DialFrom(ctx context.Context, n *Node, addr string) (net.Conn, error) {
	return dialIn(ctx, n.Namespace, addr)
}

// DropConnections kills n's per-connection sshd processes, as a network failure or a server
// restart would end them, while its listener keeps accepting new connections. It returns how
// many connections it ended.
func (b *Bed) DropConnections(tb testing.TB, n *Node) int {
	tb.Helper()
	kids := children(n.PID)
	for _, pid := range kids {
		for _, d := range descendants(pid) {
			_ = syscall.Kill(d, syscall.SIGKILL)
		}
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	return len(kids)
}

// FreezeConnections stops (SIGSTOP) n's per-connection sshd processes: the connections stay
// open but nothing answers, as when a firewall silently drops a flow. The listener still
// accepts new connections. The frozen processes are killed when the bed stops.
func (b *Bed) FreezeConnections(tb testing.TB, n *Node) int {
	tb.Helper()
	kids := children(n.PID)
	for _, pid := range kids {
		// The network side of a connection is the unprivileged child of the per-connection
		// monitor (privilege separation): stop them all.
		for _, p := range append(descendants(pid), pid) {
			_ = syscall.Kill(p, syscall.SIGSTOP)
		}
	}
	return len(kids)
}

func dialHost(ctx context.Context, addr string) (net.Conn, error) {
	var d net.Dialer
	return d.DialContext(ctx, "tcp", addr)
}
